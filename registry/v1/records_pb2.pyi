from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_STATUS_UNSPECIFIED: _ClassVar[RecordStatus]
    RECORD_STATUS_DRAFT: _ClassVar[RecordStatus]
    RECORD_STATUS_ACTIVE: _ClassVar[RecordStatus]
    RECORD_STATUS_SUSPENDED: _ClassVar[RecordStatus]
    RECORD_STATUS_WITHDRAWN: _ClassVar[RecordStatus]
    RECORD_STATUS_SUPERSEDED: _ClassVar[RecordStatus]

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_MICRO_CREDENTIAL: _ClassVar[RecordKind]
    RECORD_KIND_LEARNING_UNIT: _ClassVar[RecordKind]
    RECORD_KIND_AGREEMENT: _ClassVar[RecordKind]

class ParticipationForm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTICIPATION_FORM_UNSPECIFIED: _ClassVar[ParticipationForm]
    PARTICIPATION_FORM_ONLINE: _ClassVar[ParticipationForm]
    PARTICIPATION_FORM_ONSITE: _ClassVar[ParticipationForm]
    PARTICIPATION_FORM_BLENDED: _ClassVar[ParticipationForm]

class QualityAssuranceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_ASSURANCE_KIND_UNSPECIFIED: _ClassVar[QualityAssuranceKind]
    QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW: _ClassVar[QualityAssuranceKind]
    QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION: _ClassVar[QualityAssuranceKind]
    QUALITY_ASSURANCE_KIND_PROFESSIONAL_BODY_RECOGNITION: _ClassVar[QualityAssuranceKind]

class LearningUnitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEARNING_UNIT_KIND_UNSPECIFIED: _ClassVar[LearningUnitKind]
    LEARNING_UNIT_KIND_MODULE: _ClassVar[LearningUnitKind]
    LEARNING_UNIT_KIND_QUALIFICATION: _ClassVar[LearningUnitKind]

class GroupOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_OPERATOR_UNSPECIFIED: _ClassVar[GroupOperator]
    GROUP_OPERATOR_ALL_OF: _ClassVar[GroupOperator]
    GROUP_OPERATOR_ANY_OF: _ClassVar[GroupOperator]
    GROUP_OPERATOR_N_OF: _ClassVar[GroupOperator]
RECORD_STATUS_UNSPECIFIED: RecordStatus
RECORD_STATUS_DRAFT: RecordStatus
RECORD_STATUS_ACTIVE: RecordStatus
RECORD_STATUS_SUSPENDED: RecordStatus
RECORD_STATUS_WITHDRAWN: RecordStatus
RECORD_STATUS_SUPERSEDED: RecordStatus
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_MICRO_CREDENTIAL: RecordKind
RECORD_KIND_LEARNING_UNIT: RecordKind
RECORD_KIND_AGREEMENT: RecordKind
PARTICIPATION_FORM_UNSPECIFIED: ParticipationForm
PARTICIPATION_FORM_ONLINE: ParticipationForm
PARTICIPATION_FORM_ONSITE: ParticipationForm
PARTICIPATION_FORM_BLENDED: ParticipationForm
QUALITY_ASSURANCE_KIND_UNSPECIFIED: QualityAssuranceKind
QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW: QualityAssuranceKind
QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION: QualityAssuranceKind
QUALITY_ASSURANCE_KIND_PROFESSIONAL_BODY_RECOGNITION: QualityAssuranceKind
LEARNING_UNIT_KIND_UNSPECIFIED: LearningUnitKind
LEARNING_UNIT_KIND_MODULE: LearningUnitKind
LEARNING_UNIT_KIND_QUALIFICATION: LearningUnitKind
GROUP_OPERATOR_UNSPECIFIED: GroupOperator
GROUP_OPERATOR_ALL_OF: GroupOperator
GROUP_OPERATOR_ANY_OF: GroupOperator
GROUP_OPERATOR_N_OF: GroupOperator

class Credit(_message.Message):
    __slots__ = ("value", "system")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    value: float
    system: str
    def __init__(self, value: _Optional[float] = ..., system: _Optional[str] = ...) -> None: ...

class Level(_message.Message):
    __slots__ = ("framework", "level")
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    framework: str
    level: str
    def __init__(self, framework: _Optional[str] = ..., level: _Optional[str] = ...) -> None: ...

class QualityAssurance(_message.Message):
    __slots__ = ("body", "body_id", "kind", "date", "reference", "valid_until")
    BODY_FIELD_NUMBER: _ClassVar[int]
    BODY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    body: str
    body_id: str
    kind: QualityAssuranceKind
    date: str
    reference: str
    valid_until: str
    def __init__(self, body: _Optional[str] = ..., body_id: _Optional[str] = ..., kind: _Optional[_Union[QualityAssuranceKind, str]] = ..., date: _Optional[str] = ..., reference: _Optional[str] = ..., valid_until: _Optional[str] = ...) -> None: ...

class MicroCredential(_message.Message):
    __slots__ = ("institution_id", "key", "version", "status", "title", "awarding_body", "country", "learning_outcomes", "workload_hours", "credit", "level", "assessment_type", "participation_form", "quality_assurance", "prerequisites", "identity_verified_assessment", "grading_scheme", "stackable", "subject_isced", "skills", "credit_validity_months", "url", "quality_assurances", "superseded_by", "overlaps_with")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AWARDING_BODY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    LEARNING_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_HOURS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPATION_FORM_FIELD_NUMBER: _ClassVar[int]
    QUALITY_ASSURANCE_FIELD_NUMBER: _ClassVar[int]
    PREREQUISITES_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_VERIFIED_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    GRADING_SCHEME_FIELD_NUMBER: _ClassVar[int]
    STACKABLE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ISCED_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_VALIDITY_MONTHS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    QUALITY_ASSURANCES_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_FIELD_NUMBER: _ClassVar[int]
    OVERLAPS_WITH_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    key: str
    version: int
    status: RecordStatus
    title: str
    awarding_body: str
    country: str
    learning_outcomes: _containers.RepeatedScalarFieldContainer[str]
    workload_hours: float
    credit: Credit
    level: Level
    assessment_type: str
    participation_form: ParticipationForm
    quality_assurance: str
    prerequisites: _containers.RepeatedScalarFieldContainer[str]
    identity_verified_assessment: bool
    grading_scheme: str
    stackable: bool
    subject_isced: str
    skills: _containers.RepeatedScalarFieldContainer[str]
    credit_validity_months: int
    url: str
    quality_assurances: _containers.RepeatedCompositeFieldContainer[QualityAssurance]
    superseded_by: str
    overlaps_with: _containers.RepeatedCompositeFieldContainer[CredentialRef]
    def __init__(self, institution_id: _Optional[str] = ..., key: _Optional[str] = ..., version: _Optional[int] = ..., status: _Optional[_Union[RecordStatus, str]] = ..., title: _Optional[str] = ..., awarding_body: _Optional[str] = ..., country: _Optional[str] = ..., learning_outcomes: _Optional[_Iterable[str]] = ..., workload_hours: _Optional[float] = ..., credit: _Optional[_Union[Credit, _Mapping]] = ..., level: _Optional[_Union[Level, _Mapping]] = ..., assessment_type: _Optional[str] = ..., participation_form: _Optional[_Union[ParticipationForm, str]] = ..., quality_assurance: _Optional[str] = ..., prerequisites: _Optional[_Iterable[str]] = ..., identity_verified_assessment: _Optional[bool] = ..., grading_scheme: _Optional[str] = ..., stackable: _Optional[bool] = ..., subject_isced: _Optional[str] = ..., skills: _Optional[_Iterable[str]] = ..., credit_validity_months: _Optional[int] = ..., url: _Optional[str] = ..., quality_assurances: _Optional[_Iterable[_Union[QualityAssurance, _Mapping]]] = ..., superseded_by: _Optional[str] = ..., overlaps_with: _Optional[_Iterable[_Union[CredentialRef, _Mapping]]] = ...) -> None: ...

class CreditLimit(_message.Message):
    __slots__ = ("credit", "share")
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    credit: Credit
    share: float
    def __init__(self, credit: _Optional[_Union[Credit, _Mapping]] = ..., share: _Optional[float] = ...) -> None: ...

class AwardRegulations(_message.Message):
    __slots__ = ("max_from_elsewhere", "max_experiential", "residency", "relevant_subjects_isced", "programme_unit_keys", "max_credit_age_months", "source")
    MAX_FROM_ELSEWHERE_FIELD_NUMBER: _ClassVar[int]
    MAX_EXPERIENTIAL_FIELD_NUMBER: _ClassVar[int]
    RESIDENCY_FIELD_NUMBER: _ClassVar[int]
    RELEVANT_SUBJECTS_ISCED_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_UNIT_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_CREDIT_AGE_MONTHS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    max_from_elsewhere: CreditLimit
    max_experiential: CreditLimit
    residency: _containers.RepeatedCompositeFieldContainer[LevelRequirement]
    relevant_subjects_isced: _containers.RepeatedScalarFieldContainer[str]
    programme_unit_keys: _containers.RepeatedScalarFieldContainer[str]
    max_credit_age_months: int
    source: str
    def __init__(self, max_from_elsewhere: _Optional[_Union[CreditLimit, _Mapping]] = ..., max_experiential: _Optional[_Union[CreditLimit, _Mapping]] = ..., residency: _Optional[_Iterable[_Union[LevelRequirement, _Mapping]]] = ..., relevant_subjects_isced: _Optional[_Iterable[str]] = ..., programme_unit_keys: _Optional[_Iterable[str]] = ..., max_credit_age_months: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class LevelRequirement(_message.Message):
    __slots__ = ("level", "credit")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    level: Level
    credit: Credit
    def __init__(self, level: _Optional[_Union[Level, _Mapping]] = ..., credit: _Optional[_Union[Credit, _Mapping]] = ...) -> None: ...

class StackingRule(_message.Message):
    __slots__ = ("total", "at_levels", "mandatory_unit_keys", "regulations")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    AT_LEVELS_FIELD_NUMBER: _ClassVar[int]
    MANDATORY_UNIT_KEYS_FIELD_NUMBER: _ClassVar[int]
    REGULATIONS_FIELD_NUMBER: _ClassVar[int]
    total: Credit
    at_levels: _containers.RepeatedCompositeFieldContainer[LevelRequirement]
    mandatory_unit_keys: _containers.RepeatedScalarFieldContainer[str]
    regulations: AwardRegulations
    def __init__(self, total: _Optional[_Union[Credit, _Mapping]] = ..., at_levels: _Optional[_Iterable[_Union[LevelRequirement, _Mapping]]] = ..., mandatory_unit_keys: _Optional[_Iterable[str]] = ..., regulations: _Optional[_Union[AwardRegulations, _Mapping]] = ...) -> None: ...

class LearningUnit(_message.Message):
    __slots__ = ("institution_id", "key", "version", "status", "title", "kind", "credit", "level", "subject_isced", "stacking_rule", "cross_listed_keys", "grading_scheme", "learning_outcomes", "quality_assurances", "superseded_by", "overlaps_with")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ISCED_FIELD_NUMBER: _ClassVar[int]
    STACKING_RULE_FIELD_NUMBER: _ClassVar[int]
    CROSS_LISTED_KEYS_FIELD_NUMBER: _ClassVar[int]
    GRADING_SCHEME_FIELD_NUMBER: _ClassVar[int]
    LEARNING_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    QUALITY_ASSURANCES_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_FIELD_NUMBER: _ClassVar[int]
    OVERLAPS_WITH_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    key: str
    version: int
    status: RecordStatus
    title: str
    kind: LearningUnitKind
    credit: Credit
    level: Level
    subject_isced: str
    stacking_rule: StackingRule
    cross_listed_keys: _containers.RepeatedScalarFieldContainer[str]
    grading_scheme: str
    learning_outcomes: _containers.RepeatedScalarFieldContainer[str]
    quality_assurances: _containers.RepeatedCompositeFieldContainer[QualityAssurance]
    superseded_by: str
    overlaps_with: _containers.RepeatedCompositeFieldContainer[CredentialRef]
    def __init__(self, institution_id: _Optional[str] = ..., key: _Optional[str] = ..., version: _Optional[int] = ..., status: _Optional[_Union[RecordStatus, str]] = ..., title: _Optional[str] = ..., kind: _Optional[_Union[LearningUnitKind, str]] = ..., credit: _Optional[_Union[Credit, _Mapping]] = ..., level: _Optional[_Union[Level, _Mapping]] = ..., subject_isced: _Optional[str] = ..., stacking_rule: _Optional[_Union[StackingRule, _Mapping]] = ..., cross_listed_keys: _Optional[_Iterable[str]] = ..., grading_scheme: _Optional[str] = ..., learning_outcomes: _Optional[_Iterable[str]] = ..., quality_assurances: _Optional[_Iterable[_Union[QualityAssurance, _Mapping]]] = ..., superseded_by: _Optional[str] = ..., overlaps_with: _Optional[_Iterable[_Union[CredentialRef, _Mapping]]] = ...) -> None: ...

class CredentialRef(_message.Message):
    __slots__ = ("institution_id", "key")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    key: str
    def __init__(self, institution_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class SourceItem(_message.Message):
    __slots__ = ("credential", "group")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    credential: CredentialRef
    group: SourceGroup
    def __init__(self, credential: _Optional[_Union[CredentialRef, _Mapping]] = ..., group: _Optional[_Union[SourceGroup, _Mapping]] = ...) -> None: ...

class SourceGroup(_message.Message):
    __slots__ = ("operator", "n", "items")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    operator: GroupOperator
    n: int
    items: _containers.RepeatedCompositeFieldContainer[SourceItem]
    def __init__(self, operator: _Optional[_Union[GroupOperator, str]] = ..., n: _Optional[int] = ..., items: _Optional[_Iterable[_Union[SourceItem, _Mapping]]] = ...) -> None: ...

class GeneralCredit(_message.Message):
    __slots__ = ("credit", "level", "subject_isced")
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ISCED_FIELD_NUMBER: _ClassVar[int]
    credit: Credit
    level: Level
    subject_isced: str
    def __init__(self, credit: _Optional[_Union[Credit, _Mapping]] = ..., level: _Optional[_Union[Level, _Mapping]] = ..., subject_isced: _Optional[str] = ...) -> None: ...

class UnitSeries(_message.Message):
    __slots__ = ("unit_keys", "name")
    UNIT_KEYS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    unit_keys: _containers.RepeatedScalarFieldContainer[str]
    name: str
    def __init__(self, unit_keys: _Optional[_Iterable[str]] = ..., name: _Optional[str] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("unit_key", "general_credit", "units")
    UNIT_KEY_FIELD_NUMBER: _ClassVar[int]
    GENERAL_CREDIT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    unit_key: str
    general_credit: GeneralCredit
    units: UnitSeries
    def __init__(self, unit_key: _Optional[str] = ..., general_credit: _Optional[_Union[GeneralCredit, _Mapping]] = ..., units: _Optional[_Union[UnitSeries, _Mapping]] = ...) -> None: ...

class Grade(_message.Message):
    __slots__ = ("scheme", "value")
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    scheme: str
    value: str
    def __init__(self, scheme: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Conditions(_message.Message):
    __slots__ = ("minimum_grade", "max_credit_age_months", "valid_from", "valid_to", "transitive_allowed", "identity_verified_required", "minimum_level", "completed_from", "completed_to", "for_programmes", "restriction_text", "additional_requirements", "required_quality_assurance", "verified_holdings_required")
    MINIMUM_GRADE_FIELD_NUMBER: _ClassVar[int]
    MAX_CREDIT_AGE_MONTHS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    TRANSITIVE_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_VERIFIED_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_LEVEL_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FROM_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_TO_FIELD_NUMBER: _ClassVar[int]
    FOR_PROGRAMMES_FIELD_NUMBER: _ClassVar[int]
    RESTRICTION_TEXT_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_QUALITY_ASSURANCE_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_HOLDINGS_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    minimum_grade: Grade
    max_credit_age_months: int
    valid_from: str
    valid_to: str
    transitive_allowed: bool
    identity_verified_required: bool
    minimum_level: Level
    completed_from: str
    completed_to: str
    for_programmes: _containers.RepeatedScalarFieldContainer[str]
    restriction_text: str
    additional_requirements: _containers.RepeatedScalarFieldContainer[str]
    required_quality_assurance: QualityAssuranceRequirement
    verified_holdings_required: bool
    def __init__(self, minimum_grade: _Optional[_Union[Grade, _Mapping]] = ..., max_credit_age_months: _Optional[int] = ..., valid_from: _Optional[str] = ..., valid_to: _Optional[str] = ..., transitive_allowed: _Optional[bool] = ..., identity_verified_required: _Optional[bool] = ..., minimum_level: _Optional[_Union[Level, _Mapping]] = ..., completed_from: _Optional[str] = ..., completed_to: _Optional[str] = ..., for_programmes: _Optional[_Iterable[str]] = ..., restriction_text: _Optional[str] = ..., additional_requirements: _Optional[_Iterable[str]] = ..., required_quality_assurance: _Optional[_Union[QualityAssuranceRequirement, _Mapping]] = ..., verified_holdings_required: _Optional[bool] = ...) -> None: ...

class QualityAssuranceRequirement(_message.Message):
    __slots__ = ("bodies", "kinds")
    BODIES_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    bodies: _containers.RepeatedScalarFieldContainer[str]
    kinds: _containers.RepeatedScalarFieldContainer[QualityAssuranceKind]
    def __init__(self, bodies: _Optional[_Iterable[str]] = ..., kinds: _Optional[_Iterable[_Union[QualityAssuranceKind, str]]] = ...) -> None: ...

class RecognitionAgreement(_message.Message):
    __slots__ = ("institution_id", "key", "version", "status", "title", "source", "grant", "conditions", "notes", "also_satisfies", "volume_exception")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ALSO_SATISFIES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_EXCEPTION_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    key: str
    version: int
    status: RecordStatus
    title: str
    source: SourceGroup
    grant: Grant
    conditions: Conditions
    notes: _containers.RepeatedScalarFieldContainer[str]
    also_satisfies: _containers.RepeatedScalarFieldContainer[str]
    volume_exception: str
    def __init__(self, institution_id: _Optional[str] = ..., key: _Optional[str] = ..., version: _Optional[int] = ..., status: _Optional[_Union[RecordStatus, str]] = ..., title: _Optional[str] = ..., source: _Optional[_Union[SourceGroup, _Mapping]] = ..., grant: _Optional[_Union[Grant, _Mapping]] = ..., conditions: _Optional[_Union[Conditions, _Mapping]] = ..., notes: _Optional[_Iterable[str]] = ..., also_satisfies: _Optional[_Iterable[str]] = ..., volume_exception: _Optional[str] = ...) -> None: ...
