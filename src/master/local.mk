# src/master: rules for this component go here (see Makefile.am)
