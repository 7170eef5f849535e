#!/bin/bash
# Basin fractions of one model over N nodes of a Slurm cluster: every task runs the
# same command with the same --out on a shared filesystem. basinlab reads the task
# count and index from Slurm's environment (SLURM_NTASKS, SLURM_PROCID), as JAX's
# cluster detection does, and the first node serves as coordinator. Each task
# integrates every N-th chunk, writes it to OUT/.chunks and reads the others';
# task 0 writes the results to OUT, task K a copy to OUT/.processes/K.
#
# Submit with:  sbatch --nodes=8 examples/slurm_fractions.sh
#
#SBATCH --job-name=basinlab-fractions
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=02:00:00

set -euo pipefail

OUT="${OUT:-$HOME/basinlab-runs/fractions-$SLURM_JOB_ID}"

srun basinlab fractions alignment_double_well \
    --n 100000000 --seed 0 --out "$OUT" --no-progress --join-timeout 300
