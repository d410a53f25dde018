"""ETags and conditional requests (RFC 9110 §13) for tasks and task lists.

A task's ETag is strong and derived from its version: `"v7"`. A list's ETag is weak, from
the user's change counter and the query: `W/"c42-3f9a1b2c4d5e"`; it changes with any write
of the user's tasks (deletes included) and differs between queries.
"""

import hashlib
import re

Versions = frozenset[int]  # the versions an If-Match accepts

_ENTITY_TAG = re.compile(r'[\s,]*(W/)?"([^"]*)"[\s,]*')
_TASK_TAG = re.compile(r"v([1-9][0-9]{0,17})")


def task_etag(version: int) -> str:
    return f'"v{version}"'


def list_etag(changes: int, query: bytes) -> str:
    digest = hashlib.sha256(query).hexdigest()[:12]
    return f'W/"c{changes}-{digest}"'


def if_match_versions(header: str | None) -> Versions | None:
    """The task versions `If-Match` accepts; None when any will do (no header, or `*`).

    Strong comparison: a weak tag (`W/"v3"`) never matches, nor does a tag this server did
    not make, so such a header accepts no version (the write is refused with a 412).
    """
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for weak, opaque in _tags(header):
        found = _TASK_TAG.fullmatch(opaque)
        if not weak and found:
            versions.add(int(found.group(1)))
    return frozenset(versions)


def none_match(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` lists `etag` (weak comparison) or is `*`."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(f'"{opaque}"' == wanted for _weak, opaque in _tags(header))


def _tags(header: str) -> list[tuple[bool, str]]:
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        found = _ENTITY_TAG.match(header, position)
        if found is None:
            return tags  # malformed from here on: what was read counts, nothing more
        tags.append((found.group(1) is not None, found.group(2)))
        position = found.end()
    return tags
