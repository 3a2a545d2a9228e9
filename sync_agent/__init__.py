"""An institution's sync agent: holds its catalogue and agreements, signs and publishes the
changes to the network's registry."""
