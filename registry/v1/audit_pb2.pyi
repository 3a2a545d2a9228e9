from registry.v1 import publication_pb2 as _publication_pb2
from registry.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetRecordProofRequest(_message.Message):
    __slots__ = ("institution_id", "kind", "key")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    kind: _records_pb2.RecordKind
    key: str
    def __init__(self, institution_id: _Optional[str] = ..., kind: _Optional[_Union[_records_pb2.RecordKind, str]] = ..., key: _Optional[str] = ...) -> None: ...

class RecordProof(_message.Message):
    __slots__ = ("envelope", "seq", "receipt")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    envelope: _publication_pb2.SignedEnvelope
    seq: int
    receipt: _publication_pb2.Receipt
    def __init__(self, envelope: _Optional[_Union[_publication_pb2.SignedEnvelope, _Mapping]] = ..., seq: _Optional[int] = ..., receipt: _Optional[_Union[_publication_pb2.Receipt, _Mapping]] = ...) -> None: ...

class GetRecordProofResponse(_message.Message):
    __slots__ = ("proof",)
    PROOF_FIELD_NUMBER: _ClassVar[int]
    proof: RecordProof
    def __init__(self, proof: _Optional[_Union[RecordProof, _Mapping]] = ...) -> None: ...

class ListLogEntriesRequest(_message.Message):
    __slots__ = ("from_index", "page_size")
    FROM_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    from_index: int
    page_size: int
    def __init__(self, from_index: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class LogEntry(_message.Message):
    __slots__ = ("log_index", "envelope", "log_head")
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    LOG_HEAD_FIELD_NUMBER: _ClassVar[int]
    log_index: int
    envelope: _publication_pb2.SignedEnvelope
    log_head: str
    def __init__(self, log_index: _Optional[int] = ..., envelope: _Optional[_Union[_publication_pb2.SignedEnvelope, _Mapping]] = ..., log_head: _Optional[str] = ...) -> None: ...

class ListLogEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_index")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_INDEX_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogEntry]
    next_index: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ..., next_index: _Optional[int] = ...) -> None: ...
