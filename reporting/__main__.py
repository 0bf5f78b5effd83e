from reporting.cli import program

program()
