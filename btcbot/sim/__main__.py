"""``python -m btcbot.sim``: the simulator CLI without the main ``btcbot`` entry point."""

from btcbot.sim.cli import sim_command

if __name__ == "__main__":
    sim_command()
