from tools.analysis.bench.run import main

main()
