"""The CLI's progress display off a terminal: plain lines with counts and rates."""

from __future__ import annotations

from depinrev.terminal import Progress, one_line


def test_a_progress_line_has_the_count_and_the_rate():
    assert Progress.line("akash-devnet/ethereum-devnet", 50, 200, 10.0, "chunks") == (
        "akash-devnet/ethereum-devnet: 50/200 chunks, 5.0 chunks/s, 10.0 s")
    assert Progress.line("dbt build", 0, 0, 0.2, "nodes") == "dbt build: 0 nodes, 0.2 s"


def test_off_a_terminal_it_prints_the_start_the_end_and_where_a_task_stopped(capsys):
    with Progress("chunks", every=3600, tty=False) as p:
        p.update("a", 0, 4)
        p.update("a", 1, 4)  # within `every` of the last line: not printed
        p.update("a", 4, 4)
        p.update("a", 4, 4)  # the same counts again (a poll): not repeated
        p.update("b", 1, 0, unit="nodes")
        p.update("b", 7, 0)  # unfinished: its last state is printed when the display closes
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "a: 0/4 chunks", "a: 4/4 chunks", "b: 1 nodes", "b: 7 nodes"]


def test_one_line_joins_a_list_of_problems():
    text = "cfg.yaml: invalid (2 problem(s))\n  - networks.x: bad\n  - chains.y: worse\n"
    assert one_line(text) == "cfg.yaml: invalid (2 problem(s)); networks.x: bad; chains.y: worse"
