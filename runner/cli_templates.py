"""``botloom template pack | inspect | install | list | remove | trust-key | keygen``.

``pack BOT`` writes ``NAME-VERSION.botpkg`` (``--sign KEY`` signs it, ``--touch KIND=VALUE`` adds
to what the bot is said to touch, ``--include FILE`` packs another file of the bot's folder).
``inspect PACKAGE`` checks it and prints the trust summary without installing. ``install
PACKAGE`` prints the summary and asks (``--yes`` answers for a script; without a terminal and
without ``--yes`` nothing is installed). Every answer is in the audit trail. See docs/templates.md.
"""

from __future__ import annotations

import json
import sys

from .errors import InputError


def register(sub) -> None:
    t = sub.add_parser("template", help="shareable bot templates: pack, inspect, install, list, remove, trust-key")
    ts = t.add_subparsers(metavar="ACTION", dest="template_action")
    p = ts.add_parser("pack", help="make a template package from a bot file")
    p.add_argument("bot", help="the bot file (*.bot.json); its folder holds what is packed")
    p.add_argument("-o", "--out", help="the package file or a folder for it (default: the current folder)")
    p.add_argument("--version", help="the template's version (default: the bot's)")
    p.add_argument("--author", default="")
    p.add_argument("--licence", "--license", dest="licence", default="")
    p.add_argument("--description", help="default: the bot's description")
    p.add_argument("--include", action="append", default=[], metavar="FILE",
                   help="another file of the bot's folder to pack (repeatable)")
    p.add_argument("--touch", action="append", default=[], metavar="KIND=VALUE",
                   help="something the bot touches that its nodes do not show: files=, hosts=, apps= or sites= "
                        "(repeatable)")
    p.add_argument("--sign", metavar="KEY", help="sign with this private key (made by `botloom template keygen`)")
    p.set_defaults(func=cmd_pack)
    i = ts.add_parser("inspect", help="check a package and print its trust summary (installs nothing)")
    i.add_argument("package")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_inspect)
    n = ts.add_parser("install", help="show a package's trust summary and install it into the data folder")
    n.add_argument("package")
    n.add_argument("-y", "--yes", action="store_true", help="install without asking (the summary is still printed)")
    n.add_argument("--replace", action="store_true", help="replace an installed template of the same name")
    n.add_argument("--json", action="store_true")
    n.set_defaults(func=cmd_install)
    ls = ts.add_parser("list", help="the installed templates")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    rm = ts.add_parser("remove", help="remove an installed template and its files")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_remove)
    tk = ts.add_parser("trust-key", help="trust a template author's public key (NAME.pub)")
    tk.add_argument("key")
    tk.set_defaults(func=cmd_trust_key)
    kg = ts.add_parser("keygen", help="make a signing key pair: NAME.key (keep it private) and NAME.pub (share it)")
    kg.add_argument("name", help="path and name of the key files, without suffix")
    kg.set_defaults(func=cmd_keygen)
    t.set_defaults(func=lambda args: (t.print_help(sys.stderr), 2)[1])


def _runner():
    from .runtime import Runner

    return Runner()


def _touches(items: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in items:
        kind, eq, value = item.partition("=")
        if not eq or not value:
            raise InputError(f"--touch '{item}' is not KIND=VALUE", fix="write e.g. --touch hosts=api.example.com")
        found.setdefault(kind.strip(), []).append(value.strip())
    return found


def cmd_pack(args) -> int:
    from .templates.pack import pack

    runner = _runner()
    path = pack(args.bot, args.out, runner.registry, version=args.version, author=args.author, licence=args.licence,
                description=args.description, include=args.include, touches=_touches(args.touch),
                sign_with=args.sign)
    print(path)
    return 0


def cmd_inspect(args) -> int:
    from .templates.install import needs, summary
    from .templates.package import read_package

    runner = _runner()
    pkg = read_package(args.package, runner.home)
    missing = needs(pkg, runner.registry, runner.secrets)
    if args.json:
        print(json.dumps({"manifest": pkg.manifest.to_json(), "signature": pkg.verdict.status,
                          "key_id": pkg.verdict.key_id, "signer": pkg.verdict.signer, "missing": missing}, indent=2))
    else:
        print(summary(pkg, missing))
    return 2 if missing["packs"] else 0


def _ask(text: str, yes: bool) -> bool:
    print(text, file=sys.stderr)
    if yes:
        return True
    if not sys.stdin.isatty():
        print("botloom: not installed: no terminal to ask (add --yes to install after reading the summary)",
              file=sys.stderr)
        return False
    answer = input("Install this template? [y/N] ").strip().lower()
    return answer in ("y", "yes")


def cmd_install(args) -> int:
    from .templates.install import install

    runner = _runner()
    entry = install(args.package, runner.home, runner.registry, secrets=runner.secrets,
                    decide=lambda text: _ask(text, args.yes), replace=args.replace)
    if args.json:
        print(json.dumps(entry, indent=2))
    else:
        print(f"installed {entry['name']} {entry['version']}: run it with `botloom run "
              f"{entry['folder']}/{entry['bot']}`")
    return 0


def cmd_list(args) -> int:
    from .templates.install import installed

    index = installed(_runner().home)
    if args.json:
        print(json.dumps(list(index.values()), indent=2))
        return 0
    if not index:
        print("no templates installed (`botloom template install PACKAGE`)", file=sys.stderr)
    for name, entry in sorted(index.items()):
        print(f"{name}\t{entry.get('version', '')}\t{entry.get('signature', '')}\t{entry.get('description', '')}")
    return 0


def cmd_remove(args) -> int:
    from .templates.install import remove

    entry = remove(_runner().home, args.name)
    print(f"removed {entry['name']} {entry.get('version', '')}")
    return 0


def cmd_trust_key(args) -> int:
    from .templates.signing import trust_key

    entry = trust_key(_runner().home, args.key)
    print(f"trusted key {entry['key_id']} ({entry['label']}): packages it signs install without a warning")
    return 0


def cmd_keygen(args) -> int:
    from .templates.signing import generate

    private, public = generate(args.name)
    print(f"{private} (private: keep it, sign with --sign {private})\n{public} (public: give it to the users)")
    return 0
