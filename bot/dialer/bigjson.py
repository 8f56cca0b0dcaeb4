"""Parse a large JSON answer without holding the event loop.

json.loads of a 50 MB call list takes seconds and, being one C call, holds the GIL all
along: run in a thread it stalls the event loop just the same. So a large answer is parsed
here, on the loop, in slices: the containers of the first levels (the envelope and its
lists) are walked in Python; a list's items are decoded a batch of about BATCH_CHARS at a
time (json.loads of the batch, cut after a "}," that the parse then proves is a boundary
between items), and the loop gets a turn between batches. Same result as json.loads.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

# Levels of containers walked piece by piece: the envelope, its lists, their items.
WALKED_LEVELS = 2
# The loop gets a turn after at most this much parsing.
SLICE_S = 0.005
# Characters of a list decoded by one json.loads (a few milliseconds of work).
BATCH_CHARS = 128 * 1024

_decoder = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.turn_at = time.perf_counter() + SLICE_S
        self.single_until = 0  # no batch is tried before this position (one failed there)

    def skip(self, pos: int) -> int:
        match = _SPACE.match(self.text, pos)
        return match.end() if match else pos

    async def value(self, pos: int, level: int) -> tuple[Any, int]:
        await self.value_turn()
        pos = self.skip(pos)
        char = self.text[pos : pos + 1]
        if level < WALKED_LEVELS and char == "[":
            return await self.array(pos + 1, level + 1)
        if level < WALKED_LEVELS and char == "{":
            return await self.object(pos + 1, level + 1)
        return _decoder.raw_decode(self.text, pos)

    async def array(self, pos: int, level: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "]":
            return items, pos + 1
        while True:
            batch = self.batch(pos)
            if batch is not None:
                items.extend(batch[0])
                pos = batch[1]
                await self.value_turn()
                continue
            item, pos = await self.value(pos, level)
            items.append(item)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "]":
                return items, pos + 1
            if char != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", self.text, pos)
            pos += 1

    def batch(self, pos: int) -> tuple[list[Any], int] | None:
        """The items from ``pos`` (the start of an item) up to a cut after "}," or "]," or
        '",', and the position after that comma; None when there is no such cut or the
        cut is not between two items. Cutting only after a closing character means a
        successful parse ends exactly where the items end (a number could be cut short)."""
        text = self.text
        end = min(pos + BATCH_CHARS, len(text))
        if end - pos < BATCH_CHARS // 4 or pos < self.single_until:
            return None
        cut = max(text.rfind(c, pos, end) for c in ("},", "],", '",'))
        if cut <= pos:
            # items with no such cut (numbers, say): item by item through this window,
            # instead of searching it again for every item in it
            self.single_until = end
            return None
        try:
            items = json.loads("[" + text[pos : cut + 1] + "]")
        except ValueError:
            # the cut fell inside a string, or past the list's end: item by item up to it
            self.single_until = cut + 2
            return None
        return items, cut + 2

    async def value_turn(self) -> None:
        if time.perf_counter() >= self.turn_at:
            await asyncio.sleep(0)
            self.turn_at = time.perf_counter() + SLICE_S

    async def object(self, pos: int, level: int) -> tuple[dict[str, Any], int]:
        found: dict[str, Any] = {}
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "}":
            return found, pos + 1
        while True:
            pos = self.skip(pos)
            if self.text[pos : pos + 1] != '"':
                raise json.JSONDecodeError("Expecting property name", self.text, pos)
            key, pos = _decoder.raw_decode(self.text, pos)
            pos = self.skip(pos)
            if self.text[pos : pos + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", self.text, pos)
            found[key], pos = await self.value(pos + 1, level)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "}":
                return found, pos + 1
            if char != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", self.text, pos)
            pos += 1


async def loads(content: bytes) -> Any:
    """Like json.loads(content), giving the event loop a turn every few milliseconds.
    Raises ValueError (json.JSONDecodeError, UnicodeDecodeError) for what is not JSON."""
    text = content.decode("utf-8-sig")
    parser = _Parser(text)
    found, end = await parser.value(0, 0)
    end = parser.skip(end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return found
