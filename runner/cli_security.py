"""The ``secret`` and ``audit`` commands.

``botloom secret set NAME`` asks for the value without echo (or reads one line of standard
input when it is not a terminal, for scripts); ``list`` prints names only; ``delete NAME``;
``check`` says which backend is in use, whether it is secure and whether it can be read now
(exit 2 when not); ``check NAME`` says whether that secret is set; ``rekey`` re-encrypts the
encrypted file with a new key (read like a value). A value never appears on
the command line, in the output or in the audit trail.

``botloom audit verify`` checks the whole trail and its signed digests, and names the first
bad record (exit 1 when something is wrong); ``audit export`` prints the records (or, with
``--digests``, the digests) as JSON lines; ``audit digest`` signs the records not yet signed.

``botloom trust import FILE`` brings in a bot from elsewhere, held back (``runner/trust.py``);
``trust approve FILE`` approves it as it is now; ``trust list`` shows the bots held back.
"""

from __future__ import annotations

import json
import sys

from .cli import EXIT_BAD, EXIT_FAILED, EXIT_OK, _print_json
from .errors import InputError


def add_parsers(sub) -> None:
    se = sub.add_parser("secret", help="store, list, delete or check secrets (values never shown)")
    se.add_argument("action", choices=["set", "list", "delete", "check", "rekey"])
    se.add_argument("name", nargs="?", help="the secret's name (for set, delete; optional for check)")
    se.add_argument("--json", action="store_true", help="print the result as JSON (list, check)")
    se.set_defaults(func=cmd_secret)

    au = sub.add_parser("audit", help="verify or export the audit trail")
    au.add_argument("action", choices=["verify", "export", "digest"])
    au.add_argument("--digests", action="store_true", help="export the signed digests instead of the records")
    au.add_argument("--json", action="store_true", help="print the verdict as JSON (verify)")
    au.set_defaults(func=cmd_audit)

    tr = sub.add_parser("trust", help="bring in a bot from elsewhere (held back until approved), approve it, list")
    tr.add_argument("action", choices=["import", "approve", "list"])
    tr.add_argument("bot", nargs="?", help="the bot file (import: the one received; approve: the imported copy)")
    tr.add_argument("--to", default=".", metavar="FOLDER", help="where import puts the bot (default: here)")
    tr.add_argument("--json", action="store_true")
    tr.set_defaults(func=cmd_trust)


def cmd_secret(args) -> int:
    from .secrets import SecretStore

    store = SecretStore()
    if args.action in ("set", "delete") and not args.name:
        raise InputError(f"`botloom secret {args.action}` needs the secret's name",
                         fix=f"botloom secret {args.action} NAME")
    if args.action == "set":
        store.set(args.name, _read_value(f"the value of secret '{args.name}'"))
        print(f"secret '{args.name}' stored in {store.backend().describe()}", file=sys.stderr)
    elif args.action == "delete":
        store.delete(args.name)
        print(f"secret '{args.name}' deleted", file=sys.stderr)
    elif args.action == "rekey":
        names = store.rekey(_read_value("the new key of the encrypted file"))
        print(f"re-encrypted {len(names)} secrets with the new key: give the service the new key now "
              "(the old one opens nothing any more)", file=sys.stderr)
    elif args.action == "list":
        names = store.names()
        if args.json:
            _print_json({"names": names})
        else:
            for name in names:
                print(name)
    elif args.name:
        store.get(args.name)
        print(f"secret '{args.name}' is set", file=sys.stderr)
    else:
        report = store.check()
        if args.json:
            _print_json(report)
        else:
            _print_check(report)
        return EXIT_OK if report["usable"] and report["secure"] else EXIT_BAD
    return EXIT_OK


def _read_value(what: str) -> str:
    """A value from the terminal without echo, or one line of standard input."""
    if sys.stdin.isatty():
        import getpass

        value = getpass.getpass(f"{what} (not shown): ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise InputError(f"{what} is empty", fix="type a value, or pipe it on standard input")
    return value


def _print_check(report: dict) -> None:
    if report["backend"] is None:
        print(f"no usable secret backend: {report['problem']}")
        print(f"  to do: {report['fix']}")
        return
    print(f"backend:  {report['backend']}")
    print(f"location: {report['location']}")
    print(f"secure:   {'yes' if report['secure'] else 'NO: ' + report.get('why', '')}")
    if report["usable"]:
        print("usable:   yes (a read went through)")
    else:
        print(f"usable:   NO: {report['problem']}")
        print(f"  to do: {report['fix']}")


def cmd_trust(args) -> int:
    from . import paths
    from .trust import TrustStore

    store = TrustStore(paths.home())
    if args.action != "list" and not args.bot:
        raise InputError(f"`botloom trust {args.action}` needs a bot file", fix=f"botloom trust {args.action} FILE")
    if args.action == "import":
        target = store.import_bot(args.bot, args.to)
        print(f"imported {target}; until it is approved it may read only the secrets it declares and use no script "
              f"nodes nor undeclared hosts: review it, then `botloom trust approve {target}`", file=sys.stderr)
    elif args.action == "approve":
        decision = store.approve(args.bot)
        print(f"approved {args.bot} as it is now (sha256 {decision['sha256'][:12]}), by {decision['by']}; secrets: "
              f"{', '.join(decision['secrets']) or 'none'}; script nodes: {', '.join(decision['scripts']) or 'none'}",
              file=sys.stderr)
    else:
        held = store.held_back()
        if args.json:
            _print_json(held)
        for path, info in held.items():
            if not args.json:
                print(f"{path}  (from {info['from']}{'; changed since approved' if info['changed'] else ''})")
    return EXIT_OK


def cmd_audit(args) -> int:
    from .audit import AuditTrail

    trail = AuditTrail()
    if args.action == "verify":
        verdict = trail.verify()
        if args.json:
            _print_json(verdict.to_dict())
        elif verdict.ok:
            print(f"audit trail intact: {verdict.records} records, {verdict.digests} signed digests "
                  f"(up to record {verdict.covered})")
            for note in verdict.notes:
                print(f"  note: {note}")
        else:
            where = f"line {verdict.line}" + (f", record {verdict.seq}" if verdict.seq else "")
            print(f"botloom: the audit trail was tampered with: {verdict.file}, {where}: {verdict.problem}",
                  file=sys.stderr)
        return EXIT_OK if verdict.ok else EXIT_FAILED
    if args.action == "digest":
        digest = trail.digest()
        print(f"signed records {digest['first']} to {digest['last']}" if digest else "nothing new to sign",
              file=sys.stderr)
        return EXIT_OK
    for rec in (trail.digest_records() if args.digests else trail.records()):
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return EXIT_OK
