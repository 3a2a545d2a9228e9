from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InstitutionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTITUTION_STATUS_UNSPECIFIED: _ClassVar[InstitutionStatus]
    INSTITUTION_STATUS_ACTIVE: _ClassVar[InstitutionStatus]
    INSTITUTION_STATUS_SUSPENDED: _ClassVar[InstitutionStatus]
    INSTITUTION_STATUS_REMOVED: _ClassVar[InstitutionStatus]

class KeyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_STATUS_UNSPECIFIED: _ClassVar[KeyStatus]
    KEY_STATUS_ACTIVE: _ClassVar[KeyStatus]
    KEY_STATUS_RETIRED: _ClassVar[KeyStatus]
    KEY_STATUS_REVOKED: _ClassVar[KeyStatus]
INSTITUTION_STATUS_UNSPECIFIED: InstitutionStatus
INSTITUTION_STATUS_ACTIVE: InstitutionStatus
INSTITUTION_STATUS_SUSPENDED: InstitutionStatus
INSTITUTION_STATUS_REMOVED: InstitutionStatus
KEY_STATUS_UNSPECIFIED: KeyStatus
KEY_STATUS_ACTIVE: KeyStatus
KEY_STATUS_RETIRED: KeyStatus
KEY_STATUS_REVOKED: KeyStatus

class SigningKey(_message.Message):
    __slots__ = ("key_id", "public_key", "status", "created_at", "revoked_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    public_key: bytes
    status: KeyStatus
    created_at: str
    revoked_at: str
    def __init__(self, key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ..., status: _Optional[_Union[KeyStatus, str]] = ..., created_at: _Optional[str] = ..., revoked_at: _Optional[str] = ...) -> None: ...

class Institution(_message.Message):
    __slots__ = ("institution_id", "name", "country", "status", "keys")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    name: str
    country: str
    status: InstitutionStatus
    keys: _containers.RepeatedCompositeFieldContainer[SigningKey]
    def __init__(self, institution_id: _Optional[str] = ..., name: _Optional[str] = ..., country: _Optional[str] = ..., status: _Optional[_Union[InstitutionStatus, str]] = ..., keys: _Optional[_Iterable[_Union[SigningKey, _Mapping]]] = ...) -> None: ...

class ListInstitutionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListInstitutionsResponse(_message.Message):
    __slots__ = ("institutions", "next_page_token")
    INSTITUTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    institutions: _containers.RepeatedCompositeFieldContainer[Institution]
    next_page_token: str
    def __init__(self, institutions: _Optional[_Iterable[_Union[Institution, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStatusListRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetStatusListResponse(_message.Message):
    __slots__ = ("status_list_credential", "institution_id")
    STATUS_LIST_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    status_list_credential: str
    institution_id: str
    def __init__(self, status_list_credential: _Optional[str] = ..., institution_id: _Optional[str] = ...) -> None: ...
