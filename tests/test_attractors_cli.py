"""`basinlab attractors` and `basinlab edge`: the README's commands, at test sizes."""

import re

from _command_line import run_here

import basinlab as bl


def test_attractors_finds_henons_chaotic_attractor_writes_and_reads_it_back(tmp_path):
    arguments = ("attractors", "henon_map", "--cells", "300", "--n", "300", "--no-progress")
    first = run_here(*arguments, "--out", "found", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert re.search(r"A0: chaotic .* chaotic +0\.4\d+, -1\.6\d+", first.stdout)
    assert (tmp_path / "found" / "henon_map_attractors.png").exists()
    found = bl.load(tmp_path / "found" / "henon_map_attractors.nc")
    again = run_here(*arguments, "--out", "found", cwd=tmp_path)
    assert again.returncode == 0 and "computed before" in again.stdout
    # The table printed again is the same.
    assert first.stdout.splitlines()[-6:] == again.stdout.splitlines()[-6:]
    shares = [line.split() for line in first.stdout.splitlines() if line.startswith("A0")]
    assert f"{found['fraction'].values[0]:.4f}" == shares[-1][-3]


def test_edge_tracks_the_tilted_wells_saddle(tmp_path):
    done = run_here(
        "edge",
        "alignment_tilted_well",
        "--from",
        "-1.5",
        "1",
        "--to",
        "1.5",
        "1",
        "--bounds",
        "-3",
        "3",
        "-3",
        "5",
        "--cells",
        "80",
        "--n",
        "60",
        "--steps",
        "3",
        "--interval",
        "0.2",
        "--no-progress",
        "--out",
        "edge",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (saddle,) = [
        p.numeric for p in bl.fixed_points(bl.models.alignment_tilted_well()) if p.kind == "saddle"
    ]
    assert f"a = {saddle[0]:.6g}, c = {saddle[1]:.6g}" in done.stdout
    assert (tmp_path / "edge" / "alignment_tilted_well_edge_state.nc").exists()
