from . import coffee_brew_csv_import
from . import coffee_partner_badge
from . import coffee_pour_coffee
from . import coffee_message
