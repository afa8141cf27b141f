"""How a delivered briefing leaves: by SMTP (smtplib) when a host is configured, else into a folder.

`transport(settings)` picks one from data/settings.py: `BANKPULSE_SMTP_HOST` set → `SmtpTransport`
(port, `starttls` | `tls` | `none`, optional login with the password from the environment, the
sender address); unset → `FolderTransport` under `BANKPULSE_DELIVERY_DIR` (one folder per person,
the PDF written atomically: a temporary name, then a rename). A failure raises `SendError` with
the server's or the file system's reason; the caller records it and retries later.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from data.settings import Settings


class SendError(RuntimeError):
    """The message did not leave; the text says why (e.g. the server's 550 reply)."""


@dataclass(frozen=True)
class Outgoing:
    """One briefing to deliver."""

    user: str  # the account it is for
    to: str  # the address
    subject: str
    body: str
    pdf: bytes
    filename: str


class SmtpTransport:
    name = "smtp"

    def __init__(self, settings: Settings):
        self.s = settings

    def message(self, out: Outgoing) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.s.smtp_sender
        msg["To"] = out.to
        msg["Subject"] = out.subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.s.smtp_sender.rpartition("@")[2] or None)
        msg.set_content(out.body)
        msg.add_attachment(out.pdf, maintype="application", subtype="pdf", filename=out.filename)
        return msg

    def send(self, out: Outgoing) -> str:
        s = self.s
        try:
            if s.smtp_security == "tls":
                conn = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s,
                                        context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
            with conn:
                if s.smtp_security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    conn.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
                refused = conn.send_message(self.message(out))
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError("; ".join(f"{to}: {code} {_text(msg)}" for to, (code, msg) in exc.recipients.items())) from exc
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        if refused:  # some recipients of several refused (we send to one, so this is that one)
            raise SendError("; ".join(f"{to}: {code} {_text(msg)}" for to, (code, msg) in refused.items()))
        return out.to


class FolderTransport:
    name = "folder"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, out: Outgoing) -> str:
        target = self.folder / _safe(out.user) / out.filename
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(out.pdf)
            os.replace(tmp, target)  # a reader sees the whole file or none
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        return str(target)


def transport(settings: Settings) -> SmtpTransport | FolderTransport:
    return SmtpTransport(settings) if settings.smtp_host else FolderTransport(settings.delivery_dir)


def _text(msg) -> str:
    return msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)


def _safe(name: str) -> str:
    """A folder name from an account name (they are [A-Za-z0-9_.@-], data/users.py; '..' is not one)."""
    return "".join(c if c.isalnum() or c in "_.@-" else "_" for c in name).strip(".") or "_"
