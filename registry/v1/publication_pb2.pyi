from registry.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tombstone(_message.Message):
    __slots__ = ("kind", "key", "version")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    kind: _records_pb2.RecordKind
    key: str
    version: int
    def __init__(self, kind: _Optional[_Union[_records_pb2.RecordKind, str]] = ..., key: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class RecordChange(_message.Message):
    __slots__ = ("seq", "micro_credential", "learning_unit", "agreement", "tombstone")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    MICRO_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    LEARNING_UNIT_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    TOMBSTONE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    micro_credential: _records_pb2.MicroCredential
    learning_unit: _records_pb2.LearningUnit
    agreement: _records_pb2.RecognitionAgreement
    tombstone: Tombstone
    def __init__(self, seq: _Optional[int] = ..., micro_credential: _Optional[_Union[_records_pb2.MicroCredential, _Mapping]] = ..., learning_unit: _Optional[_Union[_records_pb2.LearningUnit, _Mapping]] = ..., agreement: _Optional[_Union[_records_pb2.RecognitionAgreement, _Mapping]] = ..., tombstone: _Optional[_Union[Tombstone, _Mapping]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("institution_id", "first_seq", "last_seq", "prev_head", "changes", "created_at")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    PREV_HEAD_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    first_seq: int
    last_seq: int
    prev_head: str
    changes: _containers.RepeatedCompositeFieldContainer[RecordChange]
    created_at: str
    def __init__(self, institution_id: _Optional[str] = ..., first_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., prev_head: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[RecordChange, _Mapping]]] = ..., created_at: _Optional[str] = ...) -> None: ...

class Signature(_message.Message):
    __slots__ = ("key_id", "sig")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIG_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    sig: bytes
    def __init__(self, key_id: _Optional[str] = ..., sig: _Optional[bytes] = ...) -> None: ...

class SignedEnvelope(_message.Message):
    __slots__ = ("payload_type", "payload", "signatures")
    PAYLOAD_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    payload_type: str
    payload: bytes
    signatures: _containers.RepeatedCompositeFieldContainer[Signature]
    def __init__(self, payload_type: _Optional[str] = ..., payload: _Optional[bytes] = ..., signatures: _Optional[_Iterable[_Union[Signature, _Mapping]]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("log_index", "log_head")
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    LOG_HEAD_FIELD_NUMBER: _ClassVar[int]
    log_index: int
    log_head: str
    def __init__(self, log_index: _Optional[int] = ..., log_head: _Optional[str] = ...) -> None: ...

class Acknowledgement(_message.Message):
    __slots__ = ("institution_id", "last_seq", "head", "records_applied", "receipt")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    RECORDS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    last_seq: int
    head: str
    records_applied: int
    receipt: Receipt
    def __init__(self, institution_id: _Optional[str] = ..., last_seq: _Optional[int] = ..., head: _Optional[str] = ..., records_applied: _Optional[int] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: SignedEnvelope
    def __init__(self, envelope: _Optional[_Union[SignedEnvelope, _Mapping]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("acknowledgement", "warnings")
    ACKNOWLEDGEMENT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    acknowledgement: Acknowledgement
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, acknowledgement: _Optional[_Union[Acknowledgement, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ("institution_id",)
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    def __init__(self, institution_id: _Optional[str] = ...) -> None: ...

class GetCheckpointResponse(_message.Message):
    __slots__ = ("last_seq", "head", "bilateral_event_id")
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    BILATERAL_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    last_seq: int
    head: str
    bilateral_event_id: int
    def __init__(self, last_seq: _Optional[int] = ..., head: _Optional[str] = ..., bilateral_event_id: _Optional[int] = ...) -> None: ...

class PublishStatusListRequest(_message.Message):
    __slots__ = ("status_list_credential",)
    STATUS_LIST_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    status_list_credential: str
    def __init__(self, status_list_credential: _Optional[str] = ...) -> None: ...

class PublishStatusListResponse(_message.Message):
    __slots__ = ("id", "valid_from", "revoked")
    ID_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    id: str
    valid_from: str
    revoked: int
    def __init__(self, id: _Optional[str] = ..., valid_from: _Optional[str] = ..., revoked: _Optional[int] = ...) -> None: ...
