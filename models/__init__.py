from . import coffee_backend
from . import coffee_binding
from . import coffee_webhook_event
from . import connector_checkpoint
from . import queue_job
from . import product
from . import brew
from . import partner
