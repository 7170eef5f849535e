from ._catalogue import DEFAULT_MODEL as DEFAULT_MODEL
from ._catalogue import build as build
from ._catalogue import names as names
from .alignment_double_well import alignment_double_well as alignment_double_well
from .alignment_research_race import alignment_research_race as alignment_research_race
from .alignment_tilted_well import alignment_tilted_well as alignment_tilted_well
from .alignment_tilted_well import tilted_well_fold as tilted_well_fold
from .bistable_cycle import bistable_cycle as bistable_cycle
from .capability_race import balanced_start as balanced_start
from .capability_race import capability_race as capability_race
from .capability_race import constant_weight_threshold as constant_weight_threshold
from .capability_race import crossing_times as crossing_times
from .capability_race import values_first as values_first
from .deep_linear import deep_linear_depth as deep_linear_depth
from .deep_linear import deep_linear_mode as deep_linear_mode
from .deep_linear import deep_linear_modes as deep_linear_modes
from .deep_linear_data import ModeSpectrum as ModeSpectrum
from .deep_linear_data import SpectrumChange as SpectrumChange
from .deep_linear_data import compare_spectra as compare_spectra
from .deep_linear_data import corrupt_labels as corrupt_labels
from .deep_linear_data import hierarchical_data as hierarchical_data
from .deep_linear_data import input_output_correlation as input_output_correlation
from .deep_linear_data import mode_spectrum as mode_spectrum
from .deep_linear_learning_coefficient import (
    deep_linear_learning_coefficient as deep_linear_learning_coefficient,
)
from .deep_linear_learning_coefficient import (
    reduced_rank_learning_coefficient as reduced_rank_learning_coefficient,
)
from .henon_map import henon_map as henon_map
from .linear_attention import anisotropic_minimum_risk as anisotropic_minimum_risk
from .linear_attention import attention_loss_coefficient as attention_loss_coefficient
from .linear_attention import attention_minimum as attention_minimum
from .linear_attention import linear_attention as linear_attention
from .linear_attention import plateau_losses as plateau_losses
from .logistic_map import logistic_map as logistic_map
from .logistic_map import logistic_period_two as logistic_period_two
from .lorenz84 import lorenz84 as lorenz84
from .magnetic_pendulum import magnetic_pendulum as magnetic_pendulum
from .newton_cubic import newton_cubic as newton_cubic
from .performative_prediction import performative_feedback as performative_feedback
from .performative_prediction import performative_prediction as performative_prediction
from .retraining_moments import retraining_moments as retraining_moments
from .reward_perceptron import fresh_proxy as fresh_proxy
from .reward_perceptron import goodhart_distance as goodhart_distance
from .reward_perceptron import reward_perceptron as reward_perceptron
from .survival_instinct import pessimistic_values as pessimistic_values
from .survival_instinct import survival_instinct as survival_instinct
from .teacher_student import teacher_student as teacher_student
