#!/usr/bin/python3
"""A real SMTP server on loopback for keyward's integration tests.

tests/common/smtp.rs starts it and reads what it writes: the port it listens
on (--port-file), one JSON line per accepted message (--spool) and one line per
refused command (--refusals). Needs aiosmtpd (Debian: python3-aiosmtpd).

The listening socket is bound here, on 127.0.0.1 port 0, and handed to asyncio:
the kernel picks a free port and nothing else can take it between the choice
and the listen, so there is no race to retry. aiosmtpd's Controller is not used:
it binds by host and port itself and cannot report a port it did not choose.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import re
import signal
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port-file", required=True,
                   help="where to write the port once listening")
    p.add_argument("--port", type=int, default=0,
                   help="listen on this port (default: one the kernel picks)")
    p.add_argument("--spool", required=True,
                   help="JSON lines file of accepted messages (appended)")
    p.add_argument("--reply",
                   help="refuse with this reply, e.g. '451 4.3.0 try again later'")
    p.add_argument("--reply-at", choices=["rcpt", "data"], default="data",
                   help="the command --reply answers (default data)")
    p.add_argument("--refusals",
                   help="file getting one line per refused command (appended)")
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain",
                   help="plain; STARTTLS offered; or implicit TLS (as port 465)")
    p.add_argument("--tls-cert", help="server certificate chain, PEM")
    p.add_argument("--tls-key", help="server private key, PEM")
    p.add_argument("--auth", metavar="USER:PASSWORD",
                   help="require AUTH PLAIN or LOGIN with these credentials")
    args = p.parse_args()
    if args.mode != "plain" and not (args.tls_cert and args.tls_key):
        p.error(f"--mode {args.mode} needs --tls-cert and --tls-key")
    if args.reply and not re.match(r"[2-5][0-9][0-9]( |$)", args.reply):
        p.error("--reply takes a reply line, such as '451 4.3.0 try again later'")
    if args.reply and not args.refusals:
        p.error("--reply needs --refusals")
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth takes USER:PASSWORD")
    return args


def decoded(message_bytes):
    """The subject (RFC 2047 decoded) and the text body (transfer encoding
    undone) of a message, as the email package reads them."""
    msg = email.message_from_bytes(message_bytes, policy=email.policy.default)
    try:
        subject = str(msg["subject"] or "")
    except Exception:  # a malformed header: keep what was sent
        raw = email.message_from_bytes(message_bytes, policy=email.policy.compat32)
        subject = str(raw.get("subject", ""))
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
    except Exception:  # unknown charset or transfer encoding: the raw payload
        payload = msg.get_payload(decode=True) or b""
        body = payload.decode("utf-8", errors="replace")
    return subject, body


class Handler:
    def __init__(self, args):
        self.args = args
        self.spool = open(args.spool, "a", encoding="utf-8")
        self.refusals = open(args.refusals, "a", encoding="utf-8") if args.refusals else None

    def refuse(self, what):
        self.refusals.write(what + "\n")
        self.refusals.flush()
        return self.args.reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd offers AUTH even when it has no credentials to accept; a
        # server without --auth should not offer it at all.
        session.host_name = hostname
        if self.args.auth is None:
            responses = [r for r in responses if not r.startswith("250-AUTH")]
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reply and self.args.reply_at == "rcpt":
            return self.refuse(f"RCPT {address}")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.reply and self.args.reply_at == "data":
            return self.refuse("DATA")
        content = envelope.original_content or b""
        subject, body = decoded(content)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": content.decode("utf-8", errors="replace"),
            "subject": subject,
            "body": body.replace("\r\n", "\n"),
            "auth_user": session.auth_data if session.authenticated else None,
            # The transport of an implicit TLS connection, or of one after
            # STARTTLS, carries its SSL object; session.ssl is only set by STARTTLS.
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        self.spool.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.spool.flush()
        return "250 2.0.0 OK queued"


def authenticator_for(credentials):
    user, password = credentials.split(":", 1)

    def authenticate(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()):
            return AuthResult(success=True, auth_data=user)
        # Not handled: aiosmtpd answers 535 5.7.8.
        return AuthResult(success=False, handled=False)

    return authenticate


def write_port(path, port):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main():
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="smtp_server: %(levelname)s %(name)s: %(message)s")
    # aiosmtpd warns (UserWarning, and a log line per connection) about AUTH
    # without TLS: that is what plain and tls modes with --auth are for. And it
    # logs that Session.login_data is deprecated on every successful AUTH,
    # because it sets that attribute itself. Neither says anything about the test.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").addFilter(lambda record: not record.getMessage().startswith(
        ("auth_required == True but auth_require_tls == False",
         "Session.login_data is deprecated")))

    tls = None
    if args.mode != "plain":
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    handler = Handler(args)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    auth = args.auth is not None
    smtp_kwargs = dict(
        # A fixed name: the default, socket.getfqdn(), may wait on DNS.
        hostname="localhost",
        enable_SMTPUTF8=True,
        auth_required=auth,
        authenticator=authenticator_for(args.auth) if auth else None,
        loop=loop,
    )
    if args.mode == "starttls":
        smtp_kwargs.update(tls_context=tls, require_starttls=auth, auth_require_tls=True)
    else:
        # plain: AUTH without TLS on purpose. tls: the connection is TLS from
        # the first byte, but aiosmtpd only counts STARTTLS as TLS and would
        # refuse AUTH with 538 unless told not to require it.
        smtp_kwargs.update(auth_require_tls=False)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A fixed port may still be in TIME_WAIT from the server that had it before.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(64)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, **smtp_kwargs),
        sock=sock,
        ssl=tls if args.mode == "tls" else None,
    ))

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    write_port(args.port_file, sock.getsockname()[1])
    loop.run_until_complete(stop.wait())

    server.close()
    # Newer Pythons wait here for open connections too: do not hang on a
    # client that never said QUIT.
    try:
        loop.run_until_complete(asyncio.wait_for(server.wait_closed(), 1))
    except asyncio.TimeoutError:
        pass
    # End the conversations still open, so none is left pending at close.
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    handler.spool.close()
    if handler.refusals:
        handler.refusals.close()
    loop.close()


if __name__ == "__main__":
    main()
