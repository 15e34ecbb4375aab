"""The one error type every layer of the emulator raises; the HTTP layer renders it as Tencent does."""

from __future__ import annotations


class ApiError(Exception):
    """A Tencent API error: rendered as HTTP 200 `{"Response": {"Error": {Code, Message}, "RequestId"}}`.

    Messages come in both languages because `X-TC-Language` picks one per request, and the layer
    raising the error does not know which was asked for.
    """

    def __init__(self, code: str, message_en: str, message_zh: str | None = None) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh if message_zh is not None else message_en

    def message(self, language: str) -> str:
        return self.message_en if language == "en-US" else self.message_zh
