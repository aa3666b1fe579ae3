from choreography.reaction import reaction
from shared import steps

handler = reaction(steps.refund_payment)
