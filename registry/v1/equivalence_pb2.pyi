from registry.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HoldingEvidence(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HOLDING_EVIDENCE_UNSPECIFIED: _ClassVar[HoldingEvidence]
    HOLDING_EVIDENCE_SELF_ASSERTED: _ClassVar[HoldingEvidence]
    HOLDING_EVIDENCE_VERIFIED: _ClassVar[HoldingEvidence]
    HOLDING_EVIDENCE_REFUSED: _ClassVar[HoldingEvidence]

class CredentialRefusal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDENTIAL_REFUSAL_UNSPECIFIED: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_MALFORMED: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_BAD_SIGNATURE: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_UNKNOWN_KEY: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_WRONG_ISSUER: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_KEY_RETIRED: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_NOT_YET_VALID: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_EXPIRED: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_REVOKED: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_STATUS_UNKNOWN: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_NOT_PUBLISHED: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_MISMATCH: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_OUTSIDE_NETWORK: _ClassVar[CredentialRefusal]
    CREDENTIAL_REFUSAL_ISSUER_NOT_ACTIVE: _ClassVar[CredentialRefusal]

class RecognitionDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOGNITION_DECISION_UNSPECIFIED: _ClassVar[RecognitionDecision]
    RECOGNITION_DECISION_ACCEPTED: _ClassVar[RecognitionDecision]
    RECOGNITION_DECISION_REFUSED: _ClassVar[RecognitionDecision]

class NotAppliedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOT_APPLIED_REASON_UNSPECIFIED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_EXPIRED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_NOT_YET_VALID: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_CREDIT_TOO_OLD: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_MISSING_REQUIREMENT: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_LEVEL_TOO_LOW: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_HOLDING_ALREADY_USED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_NOT_ACTIVE: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_COMPLETED_OUTSIDE_WINDOW: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_LEVEL_NOT_COMPARABLE: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_UNIT_NOT_PUBLISHED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_LEARNING_ALREADY_COUNTED: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_QUALITY_ASSURANCE_NOT_MET: _ClassVar[NotAppliedReason]
    NOT_APPLIED_REASON_HOLDING_NOT_VERIFIED: _ClassVar[NotAppliedReason]

class PathwayRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PATHWAY_RULE_UNSPECIFIED: _ClassVar[PathwayRule]
    PATHWAY_RULE_MAX_FROM_ELSEWHERE: _ClassVar[PathwayRule]
    PATHWAY_RULE_MAX_EXPERIENTIAL: _ClassVar[PathwayRule]
    PATHWAY_RULE_RESIDENCY: _ClassVar[PathwayRule]
    PATHWAY_RULE_NOT_RELEVANT: _ClassVar[PathwayRule]
    PATHWAY_RULE_NOT_STACKABLE: _ClassVar[PathwayRule]
    PATHWAY_RULE_NOT_CURRENT: _ClassVar[PathwayRule]
    PATHWAY_RULE_LEVEL_NOT_SHOWN: _ClassVar[PathwayRule]
    PATHWAY_RULE_COUNTED_ONCE: _ClassVar[PathwayRule]

class ConflictKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFLICT_KIND_UNSPECIFIED: _ClassVar[ConflictKind]
    CONFLICT_KIND_CONTRADICTION: _ClassVar[ConflictKind]
    CONFLICT_KIND_INTENDED_ONE_TO_MANY: _ClassVar[ConflictKind]
HOLDING_EVIDENCE_UNSPECIFIED: HoldingEvidence
HOLDING_EVIDENCE_SELF_ASSERTED: HoldingEvidence
HOLDING_EVIDENCE_VERIFIED: HoldingEvidence
HOLDING_EVIDENCE_REFUSED: HoldingEvidence
CREDENTIAL_REFUSAL_UNSPECIFIED: CredentialRefusal
CREDENTIAL_REFUSAL_MALFORMED: CredentialRefusal
CREDENTIAL_REFUSAL_BAD_SIGNATURE: CredentialRefusal
CREDENTIAL_REFUSAL_UNKNOWN_KEY: CredentialRefusal
CREDENTIAL_REFUSAL_WRONG_ISSUER: CredentialRefusal
CREDENTIAL_REFUSAL_KEY_RETIRED: CredentialRefusal
CREDENTIAL_REFUSAL_NOT_YET_VALID: CredentialRefusal
CREDENTIAL_REFUSAL_EXPIRED: CredentialRefusal
CREDENTIAL_REFUSAL_REVOKED: CredentialRefusal
CREDENTIAL_REFUSAL_STATUS_UNKNOWN: CredentialRefusal
CREDENTIAL_REFUSAL_NOT_PUBLISHED: CredentialRefusal
CREDENTIAL_REFUSAL_MISMATCH: CredentialRefusal
CREDENTIAL_REFUSAL_OUTSIDE_NETWORK: CredentialRefusal
CREDENTIAL_REFUSAL_ISSUER_NOT_ACTIVE: CredentialRefusal
RECOGNITION_DECISION_UNSPECIFIED: RecognitionDecision
RECOGNITION_DECISION_ACCEPTED: RecognitionDecision
RECOGNITION_DECISION_REFUSED: RecognitionDecision
NOT_APPLIED_REASON_UNSPECIFIED: NotAppliedReason
NOT_APPLIED_REASON_EXPIRED: NotAppliedReason
NOT_APPLIED_REASON_NOT_YET_VALID: NotAppliedReason
NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM: NotAppliedReason
NOT_APPLIED_REASON_CREDIT_TOO_OLD: NotAppliedReason
NOT_APPLIED_REASON_MISSING_REQUIREMENT: NotAppliedReason
NOT_APPLIED_REASON_LEVEL_TOO_LOW: NotAppliedReason
NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED: NotAppliedReason
NOT_APPLIED_REASON_HOLDING_ALREADY_USED: NotAppliedReason
NOT_APPLIED_REASON_NOT_ACTIVE: NotAppliedReason
NOT_APPLIED_REASON_COMPLETED_OUTSIDE_WINDOW: NotAppliedReason
NOT_APPLIED_REASON_LEVEL_NOT_COMPARABLE: NotAppliedReason
NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED: NotAppliedReason
NOT_APPLIED_REASON_UNIT_NOT_PUBLISHED: NotAppliedReason
NOT_APPLIED_REASON_LEARNING_ALREADY_COUNTED: NotAppliedReason
NOT_APPLIED_REASON_QUALITY_ASSURANCE_NOT_MET: NotAppliedReason
NOT_APPLIED_REASON_HOLDING_NOT_VERIFIED: NotAppliedReason
PATHWAY_RULE_UNSPECIFIED: PathwayRule
PATHWAY_RULE_MAX_FROM_ELSEWHERE: PathwayRule
PATHWAY_RULE_MAX_EXPERIENTIAL: PathwayRule
PATHWAY_RULE_RESIDENCY: PathwayRule
PATHWAY_RULE_NOT_RELEVANT: PathwayRule
PATHWAY_RULE_NOT_STACKABLE: PathwayRule
PATHWAY_RULE_NOT_CURRENT: PathwayRule
PATHWAY_RULE_LEVEL_NOT_SHOWN: PathwayRule
PATHWAY_RULE_COUNTED_ONCE: PathwayRule
CONFLICT_KIND_UNSPECIFIED: ConflictKind
CONFLICT_KIND_CONTRADICTION: ConflictKind
CONFLICT_KIND_INTENDED_ONE_TO_MANY: ConflictKind

class Holding(_message.Message):
    __slots__ = ("credential", "award_date", "grade", "identity_verified", "verifiable_credential")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    AWARD_DATE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    VERIFIABLE_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: _records_pb2.CredentialRef
    award_date: str
    grade: _records_pb2.Grade
    identity_verified: bool
    verifiable_credential: str
    def __init__(self, credential: _Optional[_Union[_records_pb2.CredentialRef, _Mapping]] = ..., award_date: _Optional[str] = ..., grade: _Optional[_Union[_records_pb2.Grade, _Mapping]] = ..., identity_verified: _Optional[bool] = ..., verifiable_credential: _Optional[str] = ...) -> None: ...

class HoldingCheck(_message.Message):
    __slots__ = ("holding", "credential", "evidence", "refusal", "explanation", "credential_id", "issuer", "checked", "not_checked")
    HOLDING_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    NOT_CHECKED_FIELD_NUMBER: _ClassVar[int]
    holding: int
    credential: _records_pb2.CredentialRef
    evidence: HoldingEvidence
    refusal: CredentialRefusal
    explanation: str
    credential_id: str
    issuer: str
    checked: _containers.RepeatedScalarFieldContainer[str]
    not_checked: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, holding: _Optional[int] = ..., credential: _Optional[_Union[_records_pb2.CredentialRef, _Mapping]] = ..., evidence: _Optional[_Union[HoldingEvidence, str]] = ..., refusal: _Optional[_Union[CredentialRefusal, str]] = ..., explanation: _Optional[str] = ..., credential_id: _Optional[str] = ..., issuer: _Optional[str] = ..., checked: _Optional[_Iterable[str]] = ..., not_checked: _Optional[_Iterable[str]] = ...) -> None: ...

class PriorLearningAssessment(_message.Message):
    __slots__ = ("unit_key", "assessor", "assessed_on", "outcomes_met", "decision", "reference")
    UNIT_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSESSOR_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_ON_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_MET_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    unit_key: str
    assessor: str
    assessed_on: str
    outcomes_met: _containers.RepeatedScalarFieldContainer[int]
    decision: RecognitionDecision
    reference: str
    def __init__(self, unit_key: _Optional[str] = ..., assessor: _Optional[str] = ..., assessed_on: _Optional[str] = ..., outcomes_met: _Optional[_Iterable[int]] = ..., decision: _Optional[_Union[RecognitionDecision, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class ProvenanceStep(_message.Message):
    __slots__ = ("institution_id", "agreement_key", "agreement_version", "title")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    agreement_key: str
    agreement_version: int
    title: str
    def __init__(self, institution_id: _Optional[str] = ..., agreement_key: _Optional[str] = ..., agreement_version: _Optional[int] = ..., title: _Optional[str] = ...) -> None: ...

class GrantedUnit(_message.Message):
    __slots__ = ("unit_key", "title", "credit", "level", "cross_listed_keys")
    UNIT_KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CROSS_LISTED_KEYS_FIELD_NUMBER: _ClassVar[int]
    unit_key: str
    title: str
    credit: _records_pb2.Credit
    level: _records_pb2.Level
    cross_listed_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, unit_key: _Optional[str] = ..., title: _Optional[str] = ..., credit: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., level: _Optional[_Union[_records_pb2.Level, _Mapping]] = ..., cross_listed_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class GrantedCredit(_message.Message):
    __slots__ = ("grant", "unit_title", "credit", "level", "used_holdings", "provenance", "units", "conditional", "conditions", "notes", "shares_holdings_with", "source_credit", "volume_explanation", "prior_learning")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    UNIT_TITLE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    USED_HOLDINGS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONAL_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    SHARES_HOLDINGS_WITH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CREDIT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    PRIOR_LEARNING_FIELD_NUMBER: _ClassVar[int]
    grant: _records_pb2.Grant
    unit_title: str
    credit: _records_pb2.Credit
    level: _records_pb2.Level
    used_holdings: _containers.RepeatedCompositeFieldContainer[_records_pb2.CredentialRef]
    provenance: _containers.RepeatedCompositeFieldContainer[ProvenanceStep]
    units: _containers.RepeatedCompositeFieldContainer[GrantedUnit]
    conditional: bool
    conditions: _containers.RepeatedScalarFieldContainer[str]
    notes: _containers.RepeatedScalarFieldContainer[str]
    shares_holdings_with: _containers.RepeatedScalarFieldContainer[str]
    source_credit: _records_pb2.Credit
    volume_explanation: str
    prior_learning: PriorLearningAssessment
    def __init__(self, grant: _Optional[_Union[_records_pb2.Grant, _Mapping]] = ..., unit_title: _Optional[str] = ..., credit: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., level: _Optional[_Union[_records_pb2.Level, _Mapping]] = ..., used_holdings: _Optional[_Iterable[_Union[_records_pb2.CredentialRef, _Mapping]]] = ..., provenance: _Optional[_Iterable[_Union[ProvenanceStep, _Mapping]]] = ..., units: _Optional[_Iterable[_Union[GrantedUnit, _Mapping]]] = ..., conditional: _Optional[bool] = ..., conditions: _Optional[_Iterable[str]] = ..., notes: _Optional[_Iterable[str]] = ..., shares_holdings_with: _Optional[_Iterable[str]] = ..., source_credit: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., volume_explanation: _Optional[str] = ..., prior_learning: _Optional[_Union[PriorLearningAssessment, _Mapping]] = ...) -> None: ...

class NotApplied(_message.Message):
    __slots__ = ("agreement", "reason", "explanation")
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    agreement: ProvenanceStep
    reason: NotAppliedReason
    explanation: str
    def __init__(self, agreement: _Optional[_Union[ProvenanceStep, _Mapping]] = ..., reason: _Optional[_Union[NotAppliedReason, str]] = ..., explanation: _Optional[str] = ...) -> None: ...

class ResolveTransferRequest(_message.Message):
    __slots__ = ("holdings", "target_institution_id", "max_depth", "as_of", "page_size", "page_token", "programme")
    HOLDINGS_FIELD_NUMBER: _ClassVar[int]
    TARGET_INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    holdings: _containers.RepeatedCompositeFieldContainer[Holding]
    target_institution_id: str
    max_depth: int
    as_of: str
    page_size: int
    page_token: str
    programme: str
    def __init__(self, holdings: _Optional[_Iterable[_Union[Holding, _Mapping]]] = ..., target_institution_id: _Optional[str] = ..., max_depth: _Optional[int] = ..., as_of: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., programme: _Optional[str] = ...) -> None: ...

class ResolveTransferResponse(_message.Message):
    __slots__ = ("grants", "not_applied", "next_page_token", "holdings_checked")
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HOLDINGS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[GrantedCredit]
    not_applied: _containers.RepeatedCompositeFieldContainer[NotApplied]
    next_page_token: str
    holdings_checked: _containers.RepeatedCompositeFieldContainer[HoldingCheck]
    def __init__(self, grants: _Optional[_Iterable[_Union[GrantedCredit, _Mapping]]] = ..., not_applied: _Optional[_Iterable[_Union[NotApplied, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., holdings_checked: _Optional[_Iterable[_Union[HoldingCheck, _Mapping]]] = ...) -> None: ...

class ListEquivalentsRequest(_message.Message):
    __slots__ = ("credential", "target_institution_id", "page_size", "page_token", "subject_isced", "eqf_level")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    TARGET_INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ISCED_FIELD_NUMBER: _ClassVar[int]
    EQF_LEVEL_FIELD_NUMBER: _ClassVar[int]
    credential: _records_pb2.CredentialRef
    target_institution_id: str
    page_size: int
    page_token: str
    subject_isced: str
    eqf_level: int
    def __init__(self, credential: _Optional[_Union[_records_pb2.CredentialRef, _Mapping]] = ..., target_institution_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., subject_isced: _Optional[str] = ..., eqf_level: _Optional[int] = ...) -> None: ...

class Equivalence(_message.Message):
    __slots__ = ("agreement",)
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    agreement: _records_pb2.RecognitionAgreement
    def __init__(self, agreement: _Optional[_Union[_records_pb2.RecognitionAgreement, _Mapping]] = ...) -> None: ...

class ListEquivalentsResponse(_message.Message):
    __slots__ = ("equivalences", "next_page_token")
    EQUIVALENCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    equivalences: _containers.RepeatedCompositeFieldContainer[Equivalence]
    next_page_token: str
    def __init__(self, equivalences: _Optional[_Iterable[_Union[Equivalence, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListSourcesRequest(_message.Message):
    __slots__ = ("unit", "page_size", "page_token", "source_institution_id", "subject_isced", "eqf_level")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ISCED_FIELD_NUMBER: _ClassVar[int]
    EQF_LEVEL_FIELD_NUMBER: _ClassVar[int]
    unit: _records_pb2.CredentialRef
    page_size: int
    page_token: str
    source_institution_id: str
    subject_isced: str
    eqf_level: int
    def __init__(self, unit: _Optional[_Union[_records_pb2.CredentialRef, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., source_institution_id: _Optional[str] = ..., subject_isced: _Optional[str] = ..., eqf_level: _Optional[int] = ...) -> None: ...

class ListSourcesResponse(_message.Message):
    __slots__ = ("equivalences", "next_page_token")
    EQUIVALENCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    equivalences: _containers.RepeatedCompositeFieldContainer[Equivalence]
    next_page_token: str
    def __init__(self, equivalences: _Optional[_Iterable[_Union[Equivalence, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class EvaluatePathwayRequest(_message.Message):
    __slots__ = ("holdings", "qualification", "max_depth", "as_of", "prior_learning")
    HOLDINGS_FIELD_NUMBER: _ClassVar[int]
    QUALIFICATION_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    PRIOR_LEARNING_FIELD_NUMBER: _ClassVar[int]
    holdings: _containers.RepeatedCompositeFieldContainer[Holding]
    qualification: _records_pb2.CredentialRef
    max_depth: int
    as_of: str
    prior_learning: _containers.RepeatedCompositeFieldContainer[PriorLearningAssessment]
    def __init__(self, holdings: _Optional[_Iterable[_Union[Holding, _Mapping]]] = ..., qualification: _Optional[_Union[_records_pb2.CredentialRef, _Mapping]] = ..., max_depth: _Optional[int] = ..., as_of: _Optional[str] = ..., prior_learning: _Optional[_Iterable[_Union[PriorLearningAssessment, _Mapping]]] = ...) -> None: ...

class PathwayLimit(_message.Message):
    __slots__ = ("rule", "explanation", "grants", "offered", "counted")
    RULE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    rule: PathwayRule
    explanation: str
    grants: _containers.RepeatedScalarFieldContainer[str]
    offered: _records_pb2.Credit
    counted: _records_pb2.Credit
    def __init__(self, rule: _Optional[_Union[PathwayRule, str]] = ..., explanation: _Optional[str] = ..., grants: _Optional[_Iterable[str]] = ..., offered: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., counted: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ...) -> None: ...

class EvaluatePathwayResponse(_message.Message):
    __slots__ = ("counted", "achieved", "remaining", "remaining_at_levels", "remaining_mandatory_unit_keys", "conditional", "limits", "limited_by", "to_study_here", "counted_from_elsewhere", "counted_experiential", "not_applied", "holdings_checked")
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    ACHIEVED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    REMAINING_AT_LEVELS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_MANDATORY_UNIT_KEYS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONAL_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    LIMITED_BY_FIELD_NUMBER: _ClassVar[int]
    TO_STUDY_HERE_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FROM_ELSEWHERE_FIELD_NUMBER: _ClassVar[int]
    COUNTED_EXPERIENTIAL_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    HOLDINGS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    counted: _containers.RepeatedCompositeFieldContainer[GrantedCredit]
    achieved: _records_pb2.Credit
    remaining: _records_pb2.Credit
    remaining_at_levels: _containers.RepeatedCompositeFieldContainer[_records_pb2.LevelRequirement]
    remaining_mandatory_unit_keys: _containers.RepeatedScalarFieldContainer[str]
    conditional: _containers.RepeatedCompositeFieldContainer[GrantedCredit]
    limits: _containers.RepeatedScalarFieldContainer[str]
    limited_by: _containers.RepeatedCompositeFieldContainer[PathwayLimit]
    to_study_here: _containers.RepeatedCompositeFieldContainer[_records_pb2.LevelRequirement]
    counted_from_elsewhere: _records_pb2.Credit
    counted_experiential: _records_pb2.Credit
    not_applied: _containers.RepeatedCompositeFieldContainer[NotApplied]
    holdings_checked: _containers.RepeatedCompositeFieldContainer[HoldingCheck]
    def __init__(self, counted: _Optional[_Iterable[_Union[GrantedCredit, _Mapping]]] = ..., achieved: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., remaining: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., remaining_at_levels: _Optional[_Iterable[_Union[_records_pb2.LevelRequirement, _Mapping]]] = ..., remaining_mandatory_unit_keys: _Optional[_Iterable[str]] = ..., conditional: _Optional[_Iterable[_Union[GrantedCredit, _Mapping]]] = ..., limits: _Optional[_Iterable[str]] = ..., limited_by: _Optional[_Iterable[_Union[PathwayLimit, _Mapping]]] = ..., to_study_here: _Optional[_Iterable[_Union[_records_pb2.LevelRequirement, _Mapping]]] = ..., counted_from_elsewhere: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., counted_experiential: _Optional[_Union[_records_pb2.Credit, _Mapping]] = ..., not_applied: _Optional[_Iterable[_Union[NotApplied, _Mapping]]] = ..., holdings_checked: _Optional[_Iterable[_Union[HoldingCheck, _Mapping]]] = ...) -> None: ...

class ListConflictsRequest(_message.Message):
    __slots__ = ("institution_id", "page_size", "page_token")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    page_size: int
    page_token: str
    def __init__(self, institution_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Conflict(_message.Message):
    __slots__ = ("source", "agreements", "explanation", "kind")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    source: _records_pb2.CredentialRef
    agreements: _containers.RepeatedCompositeFieldContainer[ProvenanceStep]
    explanation: str
    kind: ConflictKind
    def __init__(self, source: _Optional[_Union[_records_pb2.CredentialRef, _Mapping]] = ..., agreements: _Optional[_Iterable[_Union[ProvenanceStep, _Mapping]]] = ..., explanation: _Optional[str] = ..., kind: _Optional[_Union[ConflictKind, str]] = ...) -> None: ...

class ListConflictsResponse(_message.Message):
    __slots__ = ("conflicts", "next_page_token")
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    conflicts: _containers.RepeatedCompositeFieldContainer[Conflict]
    next_page_token: str
    def __init__(self, conflicts: _Optional[_Iterable[_Union[Conflict, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
