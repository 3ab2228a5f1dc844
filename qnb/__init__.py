"""qnb: solvers for the book on shallow networks with quadratic activation.

The student ``f(x) = (1/m) sum_j (w_j . x)^2`` depends on its weights only
through ``A = W^T W / m``; the functions here build teachers and data, evaluate
the empirical and population losses of ``A`` (:class:`EmpiricalLoss`,
:class:`PopulationLoss`) and solve the gradient flows on the weights and on
``A``. Equation numbers refer to Sarao Mannelli,
Vanden-Eijnden and Zdeborová (NeurIPS 2020); the risk of inputs of other laws
(:func:`population_risk`) and the energy barrier of rank-deficient students
(:func:`rank_deficient_barrier`) follow Gamarnik, Kızıldağ and Zadik.
"""

from ._validation import as_rng
from .data import (
    INPUTS,
    TEACHERS,
    draw_instance,
    gaussian_teacher,
    gram,
    input_moments,
    instance_data,
    instance_rng,
    labels,
    nested_instance_data,
    orthonormal_teacher,
    sample_inputs,
)
from .losses import (
    EmpiricalLoss,
    PopulationLoss,
    empirical_gradient,
    empirical_loss,
    population_gradient,
    population_loss,
    population_risk,
    population_risk_gradient,
)
from .flows import MatrixFlow, WeightFlow, empirical_flow, flow_with_fallback, gd_step, weight_flow
from .population import (
    decay_rates,
    eigenvalue_flow,
    jump_time,
    late_eigenvalue,
    late_loss,
    paper_exponential_loss,
    paper_late_loss,
    paper_orthonormal_loss,
    population_flow,
    population_weight_flow,
    short_time_eigenvalue,
    teacher_spectrum,
)
from .strings import (
    StringDynamics,
    distance_to_path,
    flat_stretch,
    reparametrize,
    string_arclength,
    string_method,
)
from .certificates import certify_phaselift, certify_uniqueness
from .uniqueness import critical_samples, is_unique_minimizer, span_condition
from .energy_barrier import barrier_lower_bound, empirical_rank_deficient_barrier, rank_deficient_barrier
from .statistical_dimension import normal_cone_distance, predicted_threshold, statistical_dimension
from .loss_curves import curves_agree, gd_loss_curves, log_mean
from .recovery import (
    RECOVERY_METHODS,
    RecoveryMethod,
    recovery_bracket,
    recovery_probability,
    recovery_threshold,
)
from .string_profiles import (
    STRING_PROFILES_SEED,
    string_profile_instance,
    string_profiles,
    string_profiles_seed,
)
from .stationary_points import WeightRisk, orbit_dimension, stationary_points
from .global_convergence import (
    OUTCOME_NAMES,
    global_convergence_probability,
    logistic_fit,
    random_label_curves,
    run_instance,
)
from .landscape_census import (
    LANDSCAPE_CENSUS_SEED,
    census_instance,
    census_run,
    landscape_census,
    network_global_minimum,
)
from .local_convergence import convergence_radius, gauss_newton_rate, loss_decay_rate
from .two_layer import (
    ACTIVATIONS,
    Activation,
    NetworkLoss,
    gradient_descent,
    network_flow,
    perturbed_gradient_descent,
    polish_stationary_point,
)
from .perfect_minima import (
    Branch,
    branch_hessian,
    branch_profile,
    function_error,
    perfect_branches,
    separation_test,
    teacher_student_loss,
)
from .branch_flow import algebraic_decay_exponent, approach_direction, flow_to_limit, soft_direction_law
from .result import Result
from .figure_explorer import explore
from .stored_data import STORED_DATA, fetch_stored_data

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Branch",
    "EmpiricalLoss",
    "NetworkLoss",
    "OUTCOME_NAMES",
    "INPUTS",
    "LANDSCAPE_CENSUS_SEED",
    "MatrixFlow",
    "PopulationLoss",
    "RECOVERY_METHODS",
    "RecoveryMethod",
    "Result",
    "STORED_DATA",
    "STRING_PROFILES_SEED",
    "StringDynamics",
    "TEACHERS",
    "WeightFlow",
    "WeightRisk",
    "as_rng",
    "barrier_lower_bound",
    "convergence_radius",
    "critical_samples",
    "curves_agree",
    "decay_rates",
    "distance_to_path",
    "draw_instance",
    "eigenvalue_flow",
    "explore",
    "empirical_flow",
    "empirical_gradient",
    "empirical_loss",
    "empirical_rank_deficient_barrier",
    "fetch_stored_data",
    "flat_stretch",
    "flow_with_fallback",
    "gaussian_teacher",
    "gd_loss_curves",
    "gd_step",
    "gauss_newton_rate",
    "global_convergence_probability",
    "gradient_descent",
    "gram",
    "input_moments",
    "instance_data",
    "instance_rng",
    "is_unique_minimizer",
    "census_instance",
    "census_run",
    "certify_uniqueness",
    "certify_phaselift",
    "jump_time",
    "labels",
    "landscape_census",
    "late_eigenvalue",
    "late_loss",
    "log_mean",
    "logistic_fit",
    "loss_decay_rate",
    "nested_instance_data",
    "network_global_minimum",
    "network_flow",
    "normal_cone_distance",
    "orbit_dimension",
    "orthonormal_teacher",
    "paper_exponential_loss",
    "paper_late_loss",
    "paper_orthonormal_loss",
    "perturbed_gradient_descent",
    "polish_stationary_point",
    "population_flow",
    "population_gradient",
    "population_loss",
    "population_risk",
    "population_risk_gradient",
    "population_weight_flow",
    "predicted_threshold",
    "rank_deficient_barrier",
    "recovery_bracket",
    "recovery_probability",
    "recovery_threshold",
    "random_label_curves",
    "reparametrize",
    "run_instance",
    "sample_inputs",
    "short_time_eigenvalue",
    "span_condition",
    "stationary_points",
    "statistical_dimension",
    "string_arclength",
    "string_method",
    "string_profile_instance",
    "string_profiles",
    "string_profiles_seed",
    "teacher_spectrum",
    "weight_flow",
    # Branches of perfect global minima (seed 004).
    "algebraic_decay_exponent",
    "approach_direction",
    "branch_hessian",
    "branch_profile",
    "flow_to_limit",
    "function_error",
    "perfect_branches",
    "separation_test",
    "soft_direction_law",
    "teacher_student_loss",
]
