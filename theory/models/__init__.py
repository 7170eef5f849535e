from ._catalogue import DEFAULT_MODEL as DEFAULT_MODEL
from ._catalogue import build as build
from ._catalogue import names as names
from .alignment_double_well import alignment_double_well as alignment_double_well
from .bistable_cycle import bistable_cycle as bistable_cycle
