"""``acd user add|passwd|list``: the users of the HTTP API (``users`` table).

The password is read from standard input when it is not a terminal (one line: ``printf
'%s\\n' "$PASSWORD" | acd user add olga --role supervisor``), else asked for twice without
echo. It is stored as an argon2id hash. The database is the configuration's
(``--config FILE``, else ``$ACD_CONFIG``); its schema must exist (``acd db upgrade``).

Exit status: 0 done; 1 the database cannot be used or the user exists / does not exist;
2 bad input (role, user name, agent, password too short, configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from acd.commands.common import EXIT_INVALID, EXIT_OK
from acd.commands.common import CommandFailed as _Failed
from acd.commands.common import usage as _usage
from acd.storage.models import Role

MIN_PASSWORD = 8
_USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
_AGENT = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "user",
        help="users of the HTTP API: add, change a password, list",
        description="Users of the HTTP API and their roles (admin, supervisor, qa, agent).",
    )
    parser.set_defaults(func=_usage(parser))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", "-c", type=Path, default=None, help="configuration file (default: $ACD_CONFIG)"
    )
    actions = parser.add_subparsers(dest="user_action", metavar="ACTION")

    add = actions.add_parser(
        "add",
        parents=[common],
        help="add a user; the password comes from stdin or a prompt",
        description="Add a user. The password is read from stdin, or asked for twice.",
    )
    add.add_argument("username", type=_username, metavar="USERNAME")
    add.add_argument(
        "--role", required=True, type=_role, metavar="ROLE", help="admin, supervisor, qa or agent"
    )
    add.add_argument(
        "--agent-id", type=_agent, default=None, metavar="ID", help="the agent (role agent only)"
    )
    add.set_defaults(func=_command(_add))

    passwd = actions.add_parser(
        "passwd",
        parents=[common],
        help="set a user's password (ends nothing already running: restart the daemon)",
        description="Set a user's password, read from stdin or asked for twice.",
    )
    passwd.add_argument("username", type=_username, metavar="USERNAME")
    passwd.set_defaults(func=_command(_passwd))

    listing = actions.add_parser("list", parents=[common], help="list the users")
    listing.set_defaults(func=_command(_list))


def _username(text: str) -> str:
    if not _USERNAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a user name: 1 to 100 of A-Z a-z 0-9 _ . @ -"
        )
    return text


def _agent(text: str) -> str:
    if not _AGENT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an agent ID")
    return text


def _role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise argparse.ArgumentTypeError(f"unknown role {text!r}: use {roles}") from None


def read_password(stdin: TextIO | None = None, prompt: Callable[[str], str] | None = None) -> str:
    """One line from ``stdin`` if it is not a terminal, else asked for twice."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        line = stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
    else:
        ask = prompt or getpass.getpass
        password = ask("Password: ")
        if ask("Password again: ") != password:
            raise _Failed("the passwords differ", EXIT_INVALID)
    if len(password) < MIN_PASSWORD:
        raise _Failed(f"the password must have at least {MIN_PASSWORD} characters", EXIT_INVALID)
    if len(password) > 1024:
        raise _Failed("the password is too long (1024 characters at most)", EXIT_INVALID)
    return password


def _command(body: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return body(args)
        except _Failed as failure:
            print(f"acd user: {failure}", file=sys.stderr)
            return failure.status

    return run


def _database(args: argparse.Namespace) -> str:
    from acd.config import ConfigError, load_settings

    try:
        return load_settings(args.config).database.url
    except ConfigError as exc:
        raise _Failed(str(exc), EXIT_INVALID) from None


def _run(url: str, work: Callable[[Any], Any]) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from acd.config import mask_database_url
    from acd.storage.db import make_engine, make_sessions

    async def main() -> Any:
        engine = make_engine(url)
        try:
            return await work(make_sessions(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (SQLAlchemyError, OSError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        text = detail[0] if detail else type(exc).__name__
        hint = ""
        if "no such table" in text or "does not exist" in text:
            hint = "; create the schema first: acd db upgrade"
        raise _Failed(f"database {mask_database_url(url)}: {text}{hint}") from None


def _add(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from acd.http.auth import hash_password
    from acd.storage.models import User

    role: Role = args.role
    if role is Role.AGENT and args.agent_id is None:
        raise _Failed("a user with the role agent needs --agent-id", EXIT_INVALID)
    if role is not Role.AGENT and args.agent_id is not None:
        raise _Failed("--agent-id is only for the role agent", EXIT_INVALID)
    url = _database(args)
    password = read_password()
    password_hash = hash_password(password)

    async def work(sessions: Any) -> None:
        async with sessions() as session, session.begin():
            exists = (
                await session.execute(select(User.id).where(User.username == args.username))
            ).scalar_one_or_none()
            if exists is not None:
                raise _Failed(f"user {args.username} exists (use 'acd user passwd')")
            session.add(
                User(
                    username=args.username,
                    password_hash=password_hash,
                    role=role.value,
                    agent_id=args.agent_id,
                    active=True,
                )
            )

    _run(url, work)
    linked = f", agent {args.agent_id}" if args.agent_id else ""
    print(f"user {args.username} added (role {role.value}{linked})")
    return EXIT_OK


def _passwd(args: argparse.Namespace) -> int:
    from sqlalchemy import update

    from acd.http.auth import hash_password
    from acd.storage.models import User

    url = _database(args)
    password_hash = hash_password(read_password())

    async def work(sessions: Any) -> None:
        async with sessions() as session, session.begin():
            result = await session.execute(
                update(User)
                .where(User.username == args.username)
                .values(password_hash=password_hash)
            )
            if not result.rowcount:
                raise _Failed(f"no user {args.username}")

    _run(url, work)
    print(f"password of {args.username} changed")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from acd.storage.models import User

    async def work(sessions: Any) -> list[User]:
        async with sessions() as session:
            return list((await session.execute(select(User).order_by(User.username))).scalars())

    for user in _run(_database(args), work):
        state = "" if user.active else " (inactive)"
        agent = f" agent={user.agent_id}" if user.agent_id else ""
        print(f"{user.username}\t{user.role}{agent}{state}")
    return EXIT_OK
