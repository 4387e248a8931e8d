"""Qt front end. Everything here runs on the GUI thread unless it says otherwise."""
