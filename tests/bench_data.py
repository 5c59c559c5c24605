"""Building (and caching) the large data set that tests/bench_refresh.py measures against.

    .venv/bin/python tests/bench_data.py [--participants 1000] [--revisions 100000]

Two real local wikis (harness's farm: content and media) filled by bulk import:

- accounts first (participants and non-participant "noise" accounts, on both wikis), so
  that imported revisions belong to local accounts, not to ">Name" imported actors;
- MediaWiki XML export dumps (schema 0.11) written here: pages in the main, User, Talk
  and Project namespaces, each page's revisions strictly increasing in time, its first
  revision a page creation; about 5 % of the main-namespace pages are redirects; about
  15 % of the revisions are by noise accounts and about 15 % fall before the window;
  participants' activity is skewed (a few very active, many occasional);
- imported with ``importDump.php --username-prefix="" --no-updates`` on both wikis at
  once (two processes); ``--no-updates`` skips the link tables, which nothing measured
  reads (page_is_redirect, rev_parent_id and the sizes are still written);
- uploads: ``importImages.php`` of small distinct PNGs on the media wiki, one run per
  uploader (participants and a noise account), which writes real upload log entries;
- a snapshot of both wikis (LocalWiki.snapshot) so that each benchmark run starts from
  the pristine data (LocalWiki.reset).

The farm is kept under ``~/.cache/programs-bot-bench/<version>-p<P>-r<R>/`` with a
``dataset.json`` marker written last; a later run with the same sizes reuses it.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Farm, LocalWiki, start_farm, tiny_png
from harness.mediawiki import maintenance_script, php_env, require_mediawiki

log = logging.getLogger("bench_data")

VERSION = "v1"
CACHE = Path(os.environ.get("PROGRAMS_BOT_BENCH_CACHE", Path.home() / ".cache/programs-bot-bench"))
MARKER = "dataset.json"
#: Share of the revisions on the content wiki (the rest go to the media wiki).
CONTENT_SHARE = 0.55
NOISE_SHARE = 0.15
OUTSIDE_SHARE = 0.15
REDIRECT_SHARE = 0.05
REVISIONS_PER_PAGE = 6


@dataclass
class Dataset:
    """What was built, as stored in the marker file."""

    root: str
    participants: list[str]
    noise: list[str]
    #: The program window's start; its end is chosen at run time (after "now").
    window_start: str
    built_at: str
    build_seconds: float = 0.0
    revisions: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    redirects: dict[str, int] = field(default_factory=dict)
    uploads: int = 0
    uploaders: list[str] = field(default_factory=list)
    seed: int = 1

    @property
    def farm_root(self) -> Path:
        return Path(self.root) / "farm"

    def save(self) -> None:
        path = Path(self.root) / MARKER
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, root: Path) -> Dataset | None:
        try:
            return cls(**json.loads((root / MARKER).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def dataset_dir(participants: int, revisions: int) -> Path:
    return CACHE / f"{VERSION}-p{participants}-r{revisions}"


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


NAMESPACES = ((0, "", 0.80), (1, "Talk:", 0.05), (2, "User:", 0.10), (4, "Project:", 0.05))


def _namespace(roll: float) -> tuple[int, str]:
    for ns, prefix, share in NAMESPACES:
        if roll < share:
            return ns, prefix
        roll -= share
    return NAMESPACES[0][:2]


def write_dump(
    path: Path,
    wiki: str,
    total: int,
    participants: list[str],
    noise: list[str],
    base: datetime,
    rng: random.Random,
) -> tuple[int, int, int]:
    """Write an XML dump of about ``total`` revisions; return (revisions, pages, redirects)."""
    weights = [rng.paretovariate(1.2) for _ in participants]
    window_days, outside_days = 360, 330
    written = pages = redirects = 0
    number = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" '
            'version="0.11" xml:lang="en">\n'
        )
        while written < total:
            number += 1
            ns, prefix = _namespace(rng.random())
            redirect = ns == 0 and rng.random() < REDIRECT_SHARE
            count = (
                1
                if redirect
                else max(1, min(total - written, int(rng.expovariate(1 / REVISIONS_PER_PAGE)) + 1))
            )
            title = f"{prefix}Bench {wiki} page {number}"
            moments = []
            for _ in range(count):
                if rng.random() < OUTSIDE_SHARE:
                    days = window_days + 5 + rng.random() * outside_days
                else:
                    days = 1 + rng.random() * window_days
                moments.append(base - timedelta(days=days))
            moments.sort()
            for i in range(1, len(moments)):  # strictly increasing, whole seconds
                moments[i] = max(moments[i], moments[i - 1] + timedelta(seconds=1))
            out.write(f"<page><title>{escape(title)}</title><ns>{ns}</ns>\n")
            text = ""
            for moment in moments:
                if rng.random() < NOISE_SHARE:
                    user = rng.choice(noise)
                else:
                    user = rng.choices(participants, weights)[0]
                if redirect:
                    text = f"#REDIRECT [[Bench {wiki} page {max(1, number - 1)}]]"
                else:
                    text += f"Sentence {rng.randrange(10**6)} by {user}. " * rng.randint(1, 4)
                    if len(text) > 2000:
                        text = text[-800:]
                body = escape(text)
                out.write(
                    "<revision>"
                    f"<timestamp>{_ts(moment)}</timestamp>"
                    f"<contributor><username>{escape(user)}</username></contributor>"
                    "<model>wikitext</model><format>text/x-wiki</format>"
                    f'<text bytes="{len(text.encode())}" xml:space="preserve">{body}</text>'
                    "</revision>\n"
                )
            out.write("</page>\n")
            written += count
            pages += 1
            redirects += redirect
        out.write("</mediawiki>\n")
    return written, pages, redirects


def _import(wiki: LocalWiki, dump: Path) -> subprocess.Popen[bytes]:
    """importDump.php in the background (its output into the wiki's folder)."""
    log_file = (wiki.root / "import.log").open("wb")
    return subprocess.Popen(
        [
            require_mediawiki(),
            str(maintenance_script("importDump.php")),
            "--username-prefix=",
            "--no-updates",
            "--quiet",
            str(dump),
        ],
        env=php_env(wiki.settings_path),
        cwd=wiki.root,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def _uploads(wiki: LocalWiki, uploaders: list[str], count: int, work: Path) -> int:
    """importImages.php, one run per uploader; returns how many files were imported."""
    per = math.ceil(count / len(uploaders))
    made = 0
    for index, user in enumerate(uploaders):
        folder = work / f"upload-{index}"
        folder.mkdir(parents=True)
        for n in range(min(per, count - made)):
            seed = 100_000 + made + n
            (folder / f"Bench upload {seed}.png").write_bytes(tiny_png(seed, 4))
        wiki.maintenance(
            "importImages.php",
            str(folder),
            "--extensions=png",
            f"--user={user}",
            f"--comment=Benchmark upload by {user}",
        )
        made += len(list(folder.iterdir()))
        if made >= count:
            break
    return made


def build(participants: int, revisions: int, *, seed: int = 1, force: bool = False) -> Dataset:
    """Build the data set (or return the cached one)."""
    root = dataset_dir(participants, revisions)
    cached = Dataset.load(root)
    if cached is not None and not force:
        log.info("reusing the data set in %s", root)
        return cached
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.monotonic()
    rng = random.Random(seed)
    names = [f"Bench participant {n:05d}" for n in range(participants)]
    noise = [f"Bench noise {n:04d}" for n in range(max(20, participants // 5))]
    base = datetime.now(UTC).replace(microsecond=0)
    farm = start_farm(root / "farm", participants=[*names, *noise])
    try:
        log.info("accounts made on both wikis (%.0f s)", time.monotonic() - started)
        dataset = Dataset(
            root=str(root),
            participants=names,
            noise=noise,
            window_start=_ts(base - timedelta(days=362)),
            built_at=_ts(base),
            seed=seed,
        )
        work = Path(tempfile.mkdtemp(prefix="bench-dumps-", dir=root))
        shares = {"content": CONTENT_SHARE, "media": 1 - CONTENT_SHARE}
        procs = {}
        for wiki in farm.wikis:
            dump = work / f"{wiki.name}.xml"
            made, pages, redirects = write_dump(
                dump, wiki.name, round(revisions * shares[wiki.name]), names, noise, base, rng
            )
            dataset.revisions[wiki.name] = made
            dataset.pages[wiki.name] = pages
            dataset.redirects[wiki.name] = redirects
            procs[wiki.name] = _import(wiki, dump)
            log.info("%s: importing %d revisions on %d pages", wiki.name, made, pages)
        # Uploads once the media wiki's import is done (one SQLite writer at a time).
        if procs["media"].wait() != 0:
            raise RuntimeError("importDump.php failed on media: see media/import.log")
        log.info("media imported (%.0f s)", time.monotonic() - started)
        uploaders = [*names[: max(2, min(20, participants // 10))], noise[0]]
        dataset.uploads = _uploads(farm.media, uploaders, max(30, revisions // 300), work)
        dataset.uploaders = uploaders
        if procs["content"].wait() != 0:
            raise RuntimeError("importDump.php failed on content: see content/import.log")
        log.info("content imported (%.0f s)", time.monotonic() - started)
        for wiki in farm.wikis:
            wiki.maintenance("initSiteStats.php", "--update")
        farm.stop()
        farm.snapshot()
        shutil.rmtree(work, ignore_errors=True)
        dataset.build_seconds = round(time.monotonic() - started, 1)
        dataset.save()
        log.info("data set built in %.0f s under %s", dataset.build_seconds, root)
        return dataset
    finally:
        farm.stop()


def open_farm(dataset: Dataset) -> Farm:
    """Restore the pristine data set and serve both wikis (on the ports chosen at build)."""
    wikis = [LocalWiki.load(dataset.farm_root / name) for name in ("content", "media")]
    for wiki in wikis:
        wiki.stop()
        wiki.reset()
        wiki.start()
    return Farm(content=wikis[0], media=wikis[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    dataset = build(options.participants, options.revisions, seed=options.seed, force=options.force)
    print(
        json.dumps(
            {k: v for k, v in asdict(dataset).items() if k not in ("participants", "noise")},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
