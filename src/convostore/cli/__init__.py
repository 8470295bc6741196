"""The `convostore` command line: one module per command group, each command a few lines."""
