from ._compare import compare_with_theory as compare_with_theory
from ._deep_linear import deep_linear_run as deep_linear_run
from ._deep_linear import deep_linear_theory as deep_linear_theory
from ._ensemble import run_keys as run_keys
from ._ensemble import train_ensemble as train_ensemble
from ._ensemble_fractions import ensemble_fractions as ensemble_fractions
from ._ensemble_fractions import predicted_fractions as predicted_fractions
from ._ensemble_learning_coefficients import (
    ensemble_learning_coefficients as ensemble_learning_coefficients,
)
from ._final_states import final_states as final_states
from ._fine_tuning_shock import minimal_fine_tuning_shock as minimal_fine_tuning_shock
from ._in_context_mixture_task import InContextMixtureTask as InContextMixtureTask
from ._linear_attention import exact_risk as exact_risk
from ._linear_attention import linear_attention_run as linear_attention_run
from ._linear_attention import linear_attention_theory as linear_attention_theory
from ._noisy_reward_sgd import noisy_reward_sgd as noisy_reward_sgd
from ._plot import plot_comparison as plot_comparison
from ._proxy_rounds import proxy_rounds as proxy_rounds
from ._reward_perceptron import reward_perceptron_run as reward_perceptron_run
from ._reward_perceptron import reward_perceptron_theory as reward_perceptron_theory
from ._reward_perceptron_task import RewardPerceptronTask as RewardPerceptronTask
from ._run_memory import chunk_size_for as chunk_size_for
from ._run_memory import run_bytes as run_bytes
from ._task_registry import TRAINING_TASKS as TRAINING_TASKS
from ._task_registry import training_task as training_task
from ._teacher_student import error_from_overlaps as error_from_overlaps
from ._teacher_student import teacher_student_model as teacher_student_model
from ._teacher_student import teacher_student_run as teacher_student_run
from ._teacher_student import teacher_student_theory as teacher_student_theory
from ._teacher_student_task import TeacherStudentTask as TeacherStudentTask
from ._teacher_student_task import specialisation as specialisation
from ._training_task import TrainingTask as TrainingTask
from ._weight_plane import weight_plane_map as weight_plane_map
