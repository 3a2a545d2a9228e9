from registry.v1 import directory_pb2 as _directory_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrolInstitutionRequest(_message.Message):
    __slots__ = ("institution_id", "name", "country", "public_key")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    name: str
    country: str
    public_key: bytes
    def __init__(self, institution_id: _Optional[str] = ..., name: _Optional[str] = ..., country: _Optional[str] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class EnrolInstitutionResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _directory_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_directory_pb2.Institution, _Mapping]] = ...) -> None: ...

class SetInstitutionStatusRequest(_message.Message):
    __slots__ = ("institution_id", "status", "reason")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    status: _directory_pb2.InstitutionStatus
    reason: str
    def __init__(self, institution_id: _Optional[str] = ..., status: _Optional[_Union[_directory_pb2.InstitutionStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetInstitutionStatusResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _directory_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_directory_pb2.Institution, _Mapping]] = ...) -> None: ...

class RotateKeyRequest(_message.Message):
    __slots__ = ("institution_id", "public_key")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    public_key: bytes
    def __init__(self, institution_id: _Optional[str] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class RotateKeyResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _directory_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_directory_pb2.Institution, _Mapping]] = ...) -> None: ...

class RevokeKeyRequest(_message.Message):
    __slots__ = ("institution_id", "key_id", "reason")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    key_id: str
    reason: str
    def __init__(self, institution_id: _Optional[str] = ..., key_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeKeyResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _directory_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_directory_pb2.Institution, _Mapping]] = ...) -> None: ...

class RevokeCertificateRequest(_message.Message):
    __slots__ = ("serial", "reason")
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    serial: str
    reason: str
    def __init__(self, serial: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeCertificateResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: RevokedCertificate
    def __init__(self, revoked: _Optional[_Union[RevokedCertificate, _Mapping]] = ...) -> None: ...

class RevokedCertificate(_message.Message):
    __slots__ = ("serial", "subject", "reason", "actor", "revoked_at")
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    serial: str
    subject: str
    reason: str
    actor: str
    revoked_at: str
    def __init__(self, serial: _Optional[str] = ..., subject: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., revoked_at: _Optional[str] = ...) -> None: ...

class ListRevokedCertificatesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRevokedCertificatesResponse(_message.Message):
    __slots__ = ("revoked", "next_page_token")
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    revoked: _containers.RepeatedCompositeFieldContainer[RevokedCertificate]
    next_page_token: str
    def __init__(self, revoked: _Optional[_Iterable[_Union[RevokedCertificate, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
