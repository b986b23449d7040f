from . import coffee_brew_csv_import
