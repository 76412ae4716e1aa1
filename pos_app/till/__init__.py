"""The till: shifts at a register, cash paid in and out, the drawer count and X/Z reports."""
