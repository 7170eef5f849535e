"""basinlab.theory: SymPy models of training dynamics and their exact analysis.

Public names load with their module on first use, so that the catalogue's names
(`basinlab.theory._model_names`) are read without SymPy.
"""

from ._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        ".models": ("models",),
        "._bifurcations": (
            "Bifurcation",
            "bifurcation_curves",
            "bifurcations",
        ),
        "._expressions": ("SUPPORTED_FUNCTIONS",),
        "._fixed_points": (
            "KINDS",
            "NON_HYPERBOLIC",
            "SADDLE",
            "STABLE_FOCUS",
            "STABLE_NODE",
            "UNSTABLE",
            "FixedPoint",
            "classify",
            "fixed_point_continua",
            "fixed_points",
            "hessian",
            "jacobian",
        ),
        "._kramers": (
            "KramersRate",
            "exact_mean_first_passage_time",
            "eyring_kramers",
        ),
        "._learning_coefficient": (
            "LearningCoefficient",
            "learning_coefficient",
        ),
        "._legacy_arguments": ("BasinlabDeprecationWarning",),
        "._model": (
            "FLOW",
            "MAP",
            "Model",
        ),
        "._noise": ("Noise",),
        "._ramp": ("Ramp",),
        "._stationary_covariance": (
            "stationary_autocorrelation",
            "stationary_covariance",
        ),
        "._time_limit": (
            "TimeLimitExceeded",
            "time_limit",
        ),
        "._window": ("default_window",),
        ".models._curriculum": ("Curriculum",),
        ".models._goodhart": (
            "GoodhartFit",
            "goodhart_fit",
        ),
        ".models._retraining": (
            "collapse_factor",
            "log_variance_drift",
            "refit_expectations",
            "second_moment_recursion",
            "stationary_moments",
        ),
    },
)
