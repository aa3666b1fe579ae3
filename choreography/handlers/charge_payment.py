from choreography.reaction import reaction
from shared import steps

handler = reaction(steps.charge_payment)
