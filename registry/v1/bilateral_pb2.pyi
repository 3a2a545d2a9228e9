from registry.v1 import publication_pb2 as _publication_pb2
from registry.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BilateralAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILATERAL_ACTION_UNSPECIFIED: _ClassVar[BilateralAction]
    BILATERAL_ACTION_PROPOSE: _ClassVar[BilateralAction]
    BILATERAL_ACTION_COUNTERSIGN: _ClassVar[BilateralAction]
    BILATERAL_ACTION_REJECT: _ClassVar[BilateralAction]
    BILATERAL_ACTION_WITHDRAW: _ClassVar[BilateralAction]
    BILATERAL_ACTION_SUSPEND: _ClassVar[BilateralAction]
    BILATERAL_ACTION_RESUME: _ClassVar[BilateralAction]
    BILATERAL_ACTION_TERMINATE: _ClassVar[BilateralAction]

class BilateralState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILATERAL_STATE_UNSPECIFIED: _ClassVar[BilateralState]
    BILATERAL_STATE_PROPOSED: _ClassVar[BilateralState]
    BILATERAL_STATE_ACTIVE: _ClassVar[BilateralState]
    BILATERAL_STATE_SUSPENDED: _ClassVar[BilateralState]
    BILATERAL_STATE_TERMINATED: _ClassVar[BilateralState]
    BILATERAL_STATE_REJECTED: _ClassVar[BilateralState]
    BILATERAL_STATE_WITHDRAWN: _ClassVar[BilateralState]
    BILATERAL_STATE_SUPERSEDED: _ClassVar[BilateralState]
BILATERAL_ACTION_UNSPECIFIED: BilateralAction
BILATERAL_ACTION_PROPOSE: BilateralAction
BILATERAL_ACTION_COUNTERSIGN: BilateralAction
BILATERAL_ACTION_REJECT: BilateralAction
BILATERAL_ACTION_WITHDRAW: BilateralAction
BILATERAL_ACTION_SUSPEND: BilateralAction
BILATERAL_ACTION_RESUME: BilateralAction
BILATERAL_ACTION_TERMINATE: BilateralAction
BILATERAL_STATE_UNSPECIFIED: BilateralState
BILATERAL_STATE_PROPOSED: BilateralState
BILATERAL_STATE_ACTIVE: BilateralState
BILATERAL_STATE_SUSPENDED: BilateralState
BILATERAL_STATE_TERMINATED: BilateralState
BILATERAL_STATE_REJECTED: BilateralState
BILATERAL_STATE_WITHDRAWN: BilateralState
BILATERAL_STATE_SUPERSEDED: BilateralState

class BilateralStep(_message.Message):
    __slots__ = ("agreement_id", "version", "action", "actor", "partner", "content_hash", "reason", "terms", "signed_at")
    AGREEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    agreement_id: str
    version: int
    action: BilateralAction
    actor: str
    partner: str
    content_hash: str
    reason: str
    terms: _records_pb2.RecognitionAgreement
    signed_at: str
    def __init__(self, agreement_id: _Optional[str] = ..., version: _Optional[int] = ..., action: _Optional[_Union[BilateralAction, str]] = ..., actor: _Optional[str] = ..., partner: _Optional[str] = ..., content_hash: _Optional[str] = ..., reason: _Optional[str] = ..., terms: _Optional[_Union[_records_pb2.RecognitionAgreement, _Mapping]] = ..., signed_at: _Optional[str] = ...) -> None: ...

class BilateralAgreement(_message.Message):
    __slots__ = ("agreement_id", "version", "proposer", "partner", "state", "content_hash", "terms")
    AGREEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    agreement_id: str
    version: int
    proposer: str
    partner: str
    state: BilateralState
    content_hash: str
    terms: _records_pb2.RecognitionAgreement
    def __init__(self, agreement_id: _Optional[str] = ..., version: _Optional[int] = ..., proposer: _Optional[str] = ..., partner: _Optional[str] = ..., state: _Optional[_Union[BilateralState, str]] = ..., content_hash: _Optional[str] = ..., terms: _Optional[_Union[_records_pb2.RecognitionAgreement, _Mapping]] = ...) -> None: ...

class BilateralEvent(_message.Message):
    __slots__ = ("event_id", "step", "state_after", "agreement_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STATE_AFTER_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    step: _publication_pb2.SignedEnvelope
    state_after: BilateralState
    agreement_id: str
    def __init__(self, event_id: _Optional[int] = ..., step: _Optional[_Union[_publication_pb2.SignedEnvelope, _Mapping]] = ..., state_after: _Optional[_Union[BilateralState, str]] = ..., agreement_id: _Optional[str] = ...) -> None: ...

class ActRequest(_message.Message):
    __slots__ = ("step",)
    STEP_FIELD_NUMBER: _ClassVar[int]
    step: _publication_pb2.SignedEnvelope
    def __init__(self, step: _Optional[_Union[_publication_pb2.SignedEnvelope, _Mapping]] = ...) -> None: ...

class ActResponse(_message.Message):
    __slots__ = ("agreement", "event_id")
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    agreement: BilateralAgreement
    event_id: int
    def __init__(self, agreement: _Optional[_Union[BilateralAgreement, _Mapping]] = ..., event_id: _Optional[int] = ...) -> None: ...

class ListBilateralEventsRequest(_message.Message):
    __slots__ = ("institution_id", "after_event_id", "page_size")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    after_event_id: int
    page_size: int
    def __init__(self, institution_id: _Optional[str] = ..., after_event_id: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListBilateralEventsResponse(_message.Message):
    __slots__ = ("events", "next_after_event_id")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[BilateralEvent]
    next_after_event_id: int
    def __init__(self, events: _Optional[_Iterable[_Union[BilateralEvent, _Mapping]]] = ..., next_after_event_id: _Optional[int] = ...) -> None: ...

class GetBilateralAgreementRequest(_message.Message):
    __slots__ = ("agreement_id",)
    AGREEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    agreement_id: str
    def __init__(self, agreement_id: _Optional[str] = ...) -> None: ...

class GetBilateralAgreementResponse(_message.Message):
    __slots__ = ("versions", "history")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[BilateralAgreement]
    history: _containers.RepeatedCompositeFieldContainer[BilateralEvent]
    def __init__(self, versions: _Optional[_Iterable[_Union[BilateralAgreement, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[BilateralEvent, _Mapping]]] = ...) -> None: ...
