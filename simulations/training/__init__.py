from ._compare import compare_with_theory as compare_with_theory
from ._compare import deep_linear_theory as deep_linear_theory
from ._compare import teacher_student_model as teacher_student_model
from ._compare import teacher_student_theory as teacher_student_theory
from ._deep_linear import deep_linear_run as deep_linear_run
from ._plot import plot_comparison as plot_comparison
from ._teacher_student import error_from_overlaps as error_from_overlaps
from ._teacher_student import teacher_student_run as teacher_student_run
