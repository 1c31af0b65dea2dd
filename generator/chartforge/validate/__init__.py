"""The validate stage: every rendered manifest against the strict schema of every Kubernetes version.

Parse once (:mod:`.manifests`), look schemas up in a per-version store (:mod:`.schemas`),
validate with kubeconform or the built-in engine (:mod:`.engine`), get a
:class:`ValidationReport` that renders itself as records or ``Diagnostic``\\ s.
"""

from chartforge.manifests import Manifest, load_manifests, parse_manifest_text
from chartforge.validate.api import (
    Job,
    default_crd_dir,
    validate_jobs,
    validate_resources,
)
from chartforge.validate.engine import ENGINE_NAMES, Engine, EngineName, make_engine
from chartforge.validate.results import (
    CODE_NO_SCHEMA,
    CODE_SCHEMA,
    CODE_YAML,
    FieldError,
    ResourceResult,
    ValidationReport,
)
from chartforge.validate.schemas import SchemaStore, normalize_version, supported_versions

__all__ = [
    "CODE_NO_SCHEMA",
    "CODE_SCHEMA",
    "CODE_YAML",
    "ENGINE_NAMES",
    "Engine",
    "EngineName",
    "FieldError",
    "Job",
    "Manifest",
    "ResourceResult",
    "SchemaStore",
    "ValidationReport",
    "default_crd_dir",
    "load_manifests",
    "make_engine",
    "normalize_version",
    "parse_manifest_text",
    "supported_versions",
    "validate_jobs",
    "validate_resources",
]
