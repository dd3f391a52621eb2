"""Which files a change touched, and which problems are the change's own (`--changed-since`).

A pull request should be annotated with its own problems, not with every old
problem of the dataset. References cross files, so the whole dataset is still
validated; only the *report* is narrowed, to

* problems in files the change touched, and
* problems elsewhere that the change caused (an actor removed while an untouched
  bundle still names it): problems of the current run that a run on the base
  version of the same paths did not have.

What counts as changed (decided here, documented in docs/contributing.md): every
path that differs between the merge base of REF and HEAD and the working tree,
that is committed changes on the branch plus staged, unstaged and untracked
(not ignored) files. That is exactly what CI sees, and locally it includes the
edit a contributor has not committed yet. Without a merge base (unrelated
histories, a shallow clone) REF itself is the base.

Git is run as a subprocess; when it is missing, the folder is not a repository or
the ref is unknown, callers fall back to a full report and say why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import FactkitError
from toolkit.problems import Problem
from toolkit.result import Report

Validate = Callable[[list[str]], Report]
"""A validation run over display paths, as `toolkit.checker.validate`."""

_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for credentials on a CI machine
    "GIT_OPTIONAL_LOCKS": "0",  # `git diff` must not take the index lock of a busy repo
}


class ChangesUnavailable(FactkitError):
    """Git cannot say what changed (no git, no repository, unknown ref); the reason is the text."""


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Files that differ from the base, as POSIX paths relative to the repository root."""

    ref: str
    base: str  # commit id compared against: the merge base of ref and HEAD, else ref itself
    root: Path  # the repository's top-level folder, symlinks resolved
    files: frozenset[str]
    merge_base: bool = True  # False when no merge base was found and ref itself is the base

    def relative(self, display: str) -> str | None:
        """`display` (a path as reported, relative to the working folder) inside the repository.

        The folder is resolved but not the file itself: a changed symlink is the link.
        """
        absolute = os.path.abspath(display)
        folder = os.path.realpath(os.path.dirname(absolute))
        try:
            rel = (Path(folder) / os.path.basename(absolute)).relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix()

    def touches(self, display: str) -> bool:
        rel = self.relative(display)
        return rel is not None and rel in self.files

    def under(self, folder: Path) -> list[str]:
        """Changed files inside `folder` (any folder on disk; none when it is outside the repo)."""
        try:
            prefix = Path(os.path.realpath(folder)).relative_to(self.root).as_posix()
        except ValueError:
            return []
        if prefix == ".":
            return sorted(self.files)
        return sorted(f for f in self.files if f == prefix or f.startswith(prefix + "/"))


def git(args: Sequence[str], cwd: Path) -> str:
    """Run git in `cwd` and return its standard output; ChangesUnavailable when it fails."""
    exe = shutil.which("git")
    if exe is None:
        raise ChangesUnavailable("git is not installed")
    try:
        proc = subprocess.run(
            [exe, *args],
            cwd=cwd,
            capture_output=True,
            env={**os.environ, **_GIT_ENV},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as exc:
        raise ChangesUnavailable(f"cannot run git: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        detail = os.fsdecode(proc.stderr).strip().splitlines()
        raise ChangesUnavailable(detail[-1] if detail else f"git {args[0]} failed")
    return os.fsdecode(proc.stdout)


def repo_root(start: Path) -> Path:
    """The top-level folder of the repository holding `start` (a file or a folder)."""
    folder = start if start.is_dir() else start.parent
    try:
        top = git(["rev-parse", "--show-toplevel"], folder or Path.cwd()).strip()
    except ChangesUnavailable as exc:
        if "not a git repository" in str(exc).lower():
            raise ChangesUnavailable(f"{os.fspath(start)} is not in a git repository") from exc
        raise
    return Path(os.path.realpath(top))


def resolve_ref(root: Path, ref: str) -> str:
    """The commit id `ref` names; refs that look like options are refused, not run."""
    if not ref or ref.startswith("-"):
        raise ChangesUnavailable(f"'{ref}' is not a git ref")
    try:
        return git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root).strip()
    except ChangesUnavailable:
        raise ChangesUnavailable(f"unknown git ref '{ref}'") from None


def _names(output: str) -> set[str]:
    return {name for name in output.split("\0") if name}


def find_changes(start: Path, ref: str) -> ChangeSet:
    """What differs from `ref` in the repository holding `start`; raises ChangesUnavailable."""
    root = repo_root(start)
    target = resolve_ref(root, ref)
    try:
        base, merge_base = git(["merge-base", target, "HEAD"], root).strip(), True
    except ChangesUnavailable:
        base, merge_base = target, False  # unrelated histories, a shallow clone, no HEAD yet
    # `git diff BASE` compares BASE with the working tree: committed, staged and unstaged
    # changes at once. --no-renames lists both names of a moved file.
    files = _names(git(["diff", "--name-only", "--no-renames", "-z", base, "--"], root))
    files |= _names(git(["ls-files", "--others", "--exclude-standard", "-z"], root))
    return ChangeSet(ref, base, root, frozenset(files), merge_base)


def changed_files(root: Path, ref: str) -> ChangeSet | None:
    """The files changed since `ref`, or None when git, the repository or the ref is missing."""
    try:
        return find_changes(root, ref)
    except ChangesUnavailable:
        return None


def extract_tree(root: Path, rev: str, dest: Path, paths: Iterable[str] = ()) -> None:
    """Write the tree of `rev` (or only `paths` of it) into `dest`, via `git archive`.

    No checkout: the repository, its index and its worktree list stay untouched and no
    hook runs. Symlinks are extracted as links (the 'tar' filter only refuses members
    that would land outside `dest`), so a link leaving the data folder stays one.
    """
    exe = shutil.which("git")
    if exe is None:
        raise ChangesUnavailable("git is not installed")
    args = [exe, "archive", "--format=tar", rev, "--", *paths]
    env = {**os.environ, **_GIT_ENV}
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            args,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                if hasattr(tarfile, "tar_filter"):  # Python 3.11.4 and later
                    archive.extractall(dest, filter="tar")
                else:  # pragma: no cover - git's own archive of our own repository
                    archive.extractall(dest)
        except (tarfile.TarError, OSError) as exc:
            proc.kill()
            proc.wait()
            errors.seek(0)
            detail = os.fsdecode(errors.read()).strip().splitlines()
            reason = detail[-1] if detail else f"cannot extract {rev}: {exc}"
            raise ChangesUnavailable(reason) from exc
        finally:
            proc.stdout.close()
        if proc.wait() != 0:
            errors.seek(0)
            detail = os.fsdecode(errors.read()).strip().splitlines()
            raise ChangesUnavailable(detail[-1] if detail else f"git archive {rev} failed")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _mirror_args(paths: Sequence[str], root: Path, mirror: Path, work: Path) -> list[str]:
    """The same paths in the extracted base tree, spelled so reports name files alike.

    Relative paths stay as typed (the base run works in the mirror of the working
    folder); absolute paths into the repository point into the mirror. Paths that do
    not exist at the base (a folder the change adds) are left out.
    """
    cwd = Path(os.path.realpath(os.getcwd()))
    out: list[str] = []
    for arg in paths:
        absolute = Path(os.path.realpath(cwd / arg))
        if _inside(absolute, root):
            inside = mirror / absolute.relative_to(root)
            mapped = arg if not os.path.isabs(arg) and _inside(cwd, root) else str(inside)
        else:
            mapped = str(absolute)  # outside the repository: not versioned, same content
        if (work / mapped).exists():
            out.append(mapped)
    return out


def _rebase(problem: Problem, mirror: str, root: str) -> Problem:
    if mirror not in problem.file and mirror not in problem.message:
        return problem
    return dataclasses.replace(
        problem,
        file=problem.file.replace(mirror, root),
        message=problem.message.replace(mirror, root),
    )


@contextlib.contextmanager
def at_base(changes: ChangeSet, paths: Sequence[str]) -> Iterator[tuple[list[str], Path]]:
    """The base tree extracted into a temporary folder, the working folder moved to its
    mirror of the current one; yields `paths` as spelt there (those that exist at the
    base) and the folder the tree is in.

    A run over those paths names files and words messages as a run on the current tree.
    """
    with tempfile.TemporaryDirectory(prefix="factkit-base-") as tmp:
        mirror = Path(os.path.realpath(tmp))
        extract_tree(changes.root, changes.base, mirror)
        cwd = Path(os.path.realpath(os.getcwd()))
        work = mirror / cwd.relative_to(changes.root) if _inside(cwd, changes.root) else cwd
        work.mkdir(parents=True, exist_ok=True)
        args = _mirror_args(paths, changes.root, mirror, work)
        with contextlib.chdir(work):
            yield args, mirror


def baseline_report(changes: ChangeSet, paths: Sequence[str], validate: Validate) -> Report:
    """Validate `paths` as they were at the base, with today's rules.

    The base tree is extracted into a temporary folder and validated from the mirror
    of the current working folder, so a problem is reported under the same file name
    and with the same message as in the current run. Same rules on both sides: a
    problem counts as caused by the change only when the data made it appear.
    """
    with at_base(changes, paths) as (args, mirror):
        if not args:
            return Report()
        base = validate(args)
    problems = [_rebase(p, str(mirror), str(changes.root)) for p in base.problems]
    return dataclasses.replace(base, problems=problems)


def _key(problem: Problem, changes: ChangeSet) -> tuple[str, str, str, str]:
    """Identity of a problem across two runs: lines move when a file is edited, this does not."""
    where = changes.relative(problem.file) or problem.file
    return (where, problem.code, problem.pointer, problem.message)


def select_problems(report: Report, changes: ChangeSet, baseline: Report | None) -> Report:
    """Problems in changed files, plus those elsewhere that `baseline` did not have.

    Without a baseline only the changed files' problems are kept. Files, records and
    the list of checked files stay those of the whole run.
    """
    before = None if baseline is None else {_key(p, changes) for p in baseline.problems}
    kept = [
        p
        for p in report.problems
        if changes.touches(p.file) or (before is not None and _key(p, changes) not in before)
    ]
    return dataclasses.replace(report, problems=kept, notices=list(report.notices))


def _own_rules() -> list[Path]:
    """Where factkit's rules live: a change there can move problems in every file."""
    from toolkit.model.schemas import schema_dir

    return [schema_dir(), Path(__file__).resolve().parent]


def anchor(paths: Sequence[str]) -> Path:
    for arg in paths:
        if os.path.exists(arg):
            return Path(arg)
    return Path.cwd()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def restrict_to_changes(
    report: Report, paths: Sequence[str], ref: str, validate: Validate
) -> Report:
    """`report` narrowed to the change since `ref`, or whole with a notice saying why not."""

    def everything(reason: str) -> Report:
        note = f"--changed-since: {reason}; reporting every file"
        return dataclasses.replace(report, notices=[*report.notices, note])

    try:
        changes = find_changes(anchor(paths), ref)
    except ChangesUnavailable as exc:
        return everything(str(exc))
    for folder in _own_rules():
        touched = changes.under(folder)
        if touched:
            return everything(f"the change touches factkit's own rules ({touched[0]})")
    try:
        baseline = baseline_report(changes, paths, validate)
    except FactkitError as exc:
        return everything(f"cannot validate {ref}: {exc}")
    selected = select_problems(report, changes, baseline)
    hidden = len(report.problems) - len(selected.problems)
    note = (
        f"--changed-since {ref}: {_plural(len(changes.files), 'changed file')}; reporting "
        "problems in changed files and those the change caused elsewhere"
    )
    if hidden:
        note += f" ({_plural(hidden, 'older problem')} in other files not shown)"
    notes = [note]
    if not changes.merge_base:
        notes.append(f"--changed-since: no merge base with {ref}; compared with {ref} itself")
    return dataclasses.replace(selected, notices=[*selected.notices, *notes])
