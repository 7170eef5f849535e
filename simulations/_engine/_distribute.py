"""Spreading an ensemble over the local devices: a mesh."""

from __future__ import annotations

import dataclasses
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

_BATCH = "batch"


@dataclasses.dataclass(frozen=True)
class BatchPlacement:
    """Where a batch of trajectories lives: split along its first axis over a
    one-dimensional `Mesh` of devices, with the parameters copied to each.

    **Fields:**

    - `mesh`: the mesh, with the single axis `"batch"`.
    """

    mesh: Mesh

    def __post_init__(self):
        assert self.mesh.axis_names == (_BATCH,), self.mesh.axis_names

    @property
    def devices(self) -> int:
        """The number of devices a batch is split over."""
        return self.mesh.size

    def rows(self, array: np.ndarray) -> jax.Array:
        """`array` split along its first axis (a multiple of `devices` long)."""
        assert array.shape[0] % self.devices == 0, (array.shape, self.devices)
        return jax.device_put(array, NamedSharding(self.mesh, PartitionSpec(_BATCH)))

    def everywhere(self, array: jax.Array) -> jax.Array:
        """`array` copied whole to every device."""
        return jax.device_put(array, NamedSharding(self.mesh, PartitionSpec()))

    def batch_size(self, requested: int) -> int:
        """`requested` rounded up to a multiple of the number of devices."""
        return -(-requested // self.devices) * self.devices


def batch_placement(devices: list[jax.Device] | None = None) -> BatchPlacement | None:
    """A placement over `devices` (all local devices by default), or `None` when there
    is only one, where placing is left to JAX.

    On a CPU, JAX sees one device unless the environment variable `XLA_FLAGS` holds
    `--xla_force_host_platform_device_count=K` before JAX starts; then each of the K
    host devices runs its share of every batch.

    **Arguments:**

    - `devices`: the devices to split over.

    **Returns:**

    A [`BatchPlacement`][], or `None`.
    """
    devices = jax.local_devices() if devices is None else devices
    if len(devices) < 2:
        return None
    return BatchPlacement(Mesh(np.array(devices), (_BATCH,)))


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity where the system says (a
    Slurm task, or `taskset`), else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1
