# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    'name': 'Coffee Connector',
    'summary': 'Connect Odoo to coffee machines. '
               'Pour a coffee when Odoo is busy for too long',
    'version': '11.0.1.0.0',
    'category': 'Connector',
    'author': 'Coffee Connector Authors, Odoo Community Association (OCA)',
    'website': 'https://github.com/OCA/connector',
    'license': 'AGPL-3',
    'depends': [
        'connector',
        'component_event',
        'queue_job',
        'product',
    ],
    'external_dependencies': {
        'python': ['requests'],
    },
    'data': [
        'security/connector_coffee_security.xml',
        'security/ir.model.access.csv',
        'data/queue_job_channel_data.xml',
        'data/ir_cron_data.xml',
        'data/coffee_webhook_event_cron_data.xml',
        'data/queue_job_requeue_cron_data.xml',
        'data/ir_cron_watchdog_data.xml',
        'wizards/coffee_brew_csv_import_views.xml',
        'wizards/coffee_partner_badge_views.xml',
        'wizards/coffee_pour_coffee_views.xml',
        'views/res_partner_views.xml',
        'views/coffee_backend_views.xml',
        'views/coffee_backend_webhook_views.xml',
        'views/coffee_backend_watchdog_views.xml',
        'views/connector_coffee_menus.xml',
    ],
    'demo': [
        'demo/coffee_backend_demo.xml',
    ],
    'installable': True,
    'application': False,
}
