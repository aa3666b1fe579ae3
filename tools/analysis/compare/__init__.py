"""`make compare`: trace one order per scenario through both deployed styles and compare them.

capture.py reads what AWS recorded (Step Functions history, the bus's event tap, the Lambdas'
structured logs); lambda_logs.py, stepfunctions.py and eventbus.py turn it into one trace model
(model.py); comparison.py lines the two styles up; console.py, report.py and svg.py show it.
"""
