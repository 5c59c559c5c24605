"""Program pages the Programs & Events Dashboard wrote, read as they are.

The Dashboard (WikiEducationFoundation/WikiEduDashboard) writes a course's page with
``lib/wiki_course_output.rb``: ``{{program details}}`` with its own parameters, a
description, and ``{{participants table}}``, one positional ``{{participant table
row|USERNAME|ASSIGNED|REVIEWING}}`` per participant and ``{{end of participants table}}``.
The template names come from its ``config/templates/<dashboard>_<language>.yml``: the
Programs & Events Dashboard's names are this project's (the first letter's case aside);
Wiki Education's and the translated ones are aliases here. The bot reads such a page with
these names and parameters, writes its figures into the rows as named parameters and adds
its outcomes block; every byte the Dashboard wrote stays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mwparserfromhell.nodes import Template

#: The Dashboard's template names (its config/templates/*.yml, lower case as it writes them)
#: -> this project's canonical names. The P&E Dashboard's English names are the project's.
TEMPLATE_ALIASES: Mapping[str, str] = {
    # dashboard.wikiedu.org_en.yml (Wiki Education)
    "course details": "Program details",
    "students table": "Participants table",
    "student table row": "Participant table row",
    "end of students table": "End of participants table",
    # an older outreachdashboard.wmflabs.org_en.yml
    "participants table row": "Participant table row",
    # outreachdashboard.wmflabs.org_cs.yml
    "Nástěnka/Kurz": "Program details",
    "Nástěnka/Seznam účastníků/Začátek tabulky": "Participants table",
    "Nástěnka/Seznam účastníků/Řádek tabulky": "Participant table row",
    "Nástěnka/Seznam účastníků/Konec tabulky": "End of participants table",
    # outreachdashboard.wmflabs.org_pt.yml and _pt.wikiversity.yml
    "detalhes de programa": "Program details",
    "tabela de participantes": "Participants table",
    "linha da tabela do participante": "Participant table row",
    "tabela final da mesa dos participantes": "End of participants table",
    "fim da tabela de participantes": "End of participants table",
}

#: {{program details}} parameters the Dashboard writes that mean one of the project's.
DETAILS_ALIASES: Mapping[str, str] = {
    "course_name": "name",
    "instructor_username": "organizer",
    "start_date": "start",
    "end_date": "end",
}
#: The Dashboard's other parameters: read and left alone (no notice).
DETAILS_KEPT = frozenset(
    {
        "instructor_realname",
        "support_staff",
        "subject",
        "institution",
        "expected_students",
        "assignment_page",
        "slug",
        "campaigns",
    }
)
_MORE_INSTRUCTORS = re.compile(r"instructor_username_([0-9]+)")
#: ``| outreachdashboard.wmflabs.org = yes``: the Dashboard names itself by its host.
_HOST_MARK = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")


def details_values(template: Template) -> tuple[dict[str, str], set[str], bool]:
    """The Dashboard's {{program details}} parameters as the project's (the first
    instructor is the organizer, the others the facilitators), the names read, and whether
    the page is the Dashboard's (it names its host, or uses its parameters)."""
    values: dict[str, str] = {}
    read: set[str] = set()
    instructors: list[tuple[int, str]] = []
    marked = False
    for param in template.params:
        name = str(param.name).strip()
        value = str(param.value).strip()
        if name in DETAILS_ALIASES:
            values[DETAILS_ALIASES[name]] = value
        elif (more := _MORE_INSTRUCTORS.fullmatch(name)) is not None:
            if value:
                instructors.append((int(more[1]), value))
        elif name in DETAILS_KEPT:
            pass
        elif _HOST_MARK.fullmatch(name):
            marked = True
        else:
            continue
        read.add(name)
    if instructors:
        values["facilitators"] = ", ".join(name for _, name in sorted(instructors))
    return values, read, marked or bool(read)


def row_username(template: Template) -> str | None:
    """The username of a positional row (``{{participant table row|USERNAME|...}}``)."""
    if template.has("1"):
        return str(template.get("1").value).strip()
    return None


#: Positional row parameters: the username, the assigned and the reviewed articles.
ROW_POSITIONS = frozenset({"1", "2", "3"})
