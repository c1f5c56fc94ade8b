"""README's Python examples run as written (the SB3 one needs stable-baselines3, which
scripts/python-test.sh installs)."""

import re

import pytest

from conftest import ROOT


def python_examples():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## From Python"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_has_both_examples():
    blocks = python_examples()
    assert len(blocks) == 2
    assert "stable_baselines3" in blocks[0] and "cruxlab.run(" in blocks[1]


@pytest.mark.parametrize("index", [0, 1], ids=["sb3", "experiment"])
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    block = python_examples()[index]
    if "stable_baselines3" in block:
        pytest.importorskip("stable_baselines3")
    monkeypatch.chdir(tmp_path)  # the experiment example writes runs/ into the working folder
    exec(compile(block, f"README.md example {index + 1}", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    if index == 0:
        wins = int(re.search(r"solved (\d+) of 100", printed).group(1))
        assert wins > 50, printed  # the untrained network solves 13
    else:
        assert (tmp_path / "runs" / "retarget-quick" / "results.json").is_file()
        assert "verdict" in printed
