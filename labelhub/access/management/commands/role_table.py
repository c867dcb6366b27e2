"""``manage.py role_table [--write]``: print (or write into README.md) the role table."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from labelhub.access.roles import role_table_markdown

START, END = "<!-- role-table:start -->", "<!-- role-table:end -->"


def readme_with_table(text: str) -> str:
    """Return README text with the generated table between the markers."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{role_table_markdown()}\n{END}{tail}"


class Command(BaseCommand):
    help = "Print the system role × permission table; --write updates README.md."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Rewrite the table in README.md")

    def handle(self, *args, **opts):
        if not opts["write"]:
            self.stdout.write(role_table_markdown())
            return
        readme = Path(settings.BASE_DIR) / "README.md"
        readme.write_text(readme_with_table(readme.read_text()))
        self.stdout.write(f"Updated the role table in {readme}.")
