"""The Slack side: register(app) is the one list of listeners; each feature is a package with
its listeners and views. No SQL and no raw HTTP here: the store and the dialer client are
reached through bot.services, which bot.app (the composition root) builds."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    # Imported here: handler modules import bot.services, which must not import handlers.
    from handlers import commands
    from handlers.approvals import listeners as approvals
    from handlers.call_lists import listeners as call_lists
    from handlers.call_lists import views as call_list_views
    from handlers.campaign_form import listeners as campaign_form
    from handlers.campaign_form import views as campaign_form_view
    from handlers.campaigns import listeners as campaigns
    from handlers.control import emergency
    from handlers.control import listeners as control
    from handlers.control import views as control_views
    from handlers.history import listeners as history
    from handlers.home import listeners as home
    from handlers.home.views import NEW_CAMPAIGN_ACTION, UPLOAD_ACTION
    from handlers.middleware import RequestContext
    from handlers.schedules import form as schedule_form
    from handlers.schedules import listeners as schedules
    from handlers.schedules import views as schedule_views
    from handlers.workflows import listeners as workflows

    app.middleware(RequestContext(services))
    app.command("/dialer")(commands.handle_dialer)

    # Campaign control, listings, approvals
    app.action(control.CONTROL_ACTION)(control.on_control_button)
    app.action("control:confirm")(control.on_confirm)
    app.action("control:cancel")(control.on_cancel)
    app.action("campaigns:page")(campaigns.on_page)
    app.action("campaign:show")(campaigns.on_details)
    app.action("campaign:history")(campaigns.on_history)
    app.action(call_list_views.SHOW_ACTION)(call_lists.on_show)
    app.action(call_list_views.NUMBERS_ACTION)(call_lists.on_show_numbers)
    app.action(call_list_views.PAGE_ACTION)(call_lists.on_page)
    app.action(approvals.APPROVAL_ACTION)(approvals.on_approval_button)
    app.view(approvals.views.DECIDE_CALLBACK)(approvals.on_decide_submit)
    app.action("history:older")(history.on_older)

    # Emergency stop: the shortcut and the App Home button open one confirmation
    app.shortcut(control_views.PAUSE_ALL_SHORTCUT)(emergency.on_open)
    app.action(control_views.PAUSE_ALL_OPEN)(emergency.on_open)
    app.action(control_views.PAUSE_ALL_CONFIRM)(emergency.on_confirm)
    app.action(control_views.PAUSE_ALL_CONFIRM_UNKNOWN)(emergency.on_confirm)
    app.action(control_views.PAUSE_ALL_CANCEL)(emergency.on_cancel)

    # Scheduled commands
    app.action(schedule_views.CONFIRM)(schedules.on_confirm)
    app.action(schedules.PICK)(schedules.on_pick)
    app.action(schedule_views.DISMISS)(schedules.on_dismiss)
    app.action(schedule_views.CANCEL)(schedules.on_cancel_button)
    app.action(schedule_views.APPROVE)(schedules.on_decision)
    app.action(schedule_views.REJECT)(schedules.on_decision)
    app.action(schedule_form.OPEN)(schedule_form.on_open)
    app.view(schedule_form.CALLBACK_ID)(schedule_form.on_submit)

    # App Home (Events API; the manifest subscribes to app_home_opened)
    app.event("app_home_opened")(home.on_home_opened(services.home))
    app.action(NEW_CAMPAIGN_ACTION)(home.on_new_campaign)
    app.action(UPLOAD_ACTION)(home.on_upload)

    # Workflow Builder custom steps (function_executed; manifest.yml `functions`)
    for step in workflows.STEPS:
        app.function(step)(workflows.on_step)

    # Call-list modal
    app.view(call_list_views.CALLBACK_ID)(call_lists.on_submit)
    app.action(call_list_views.CREATE_ACTION)(call_lists.on_create)
    app.action(call_list_views.CANCEL_ACTION)(call_lists.on_cancel)

    # Campaign modal
    app.view(campaign_form_view.CALLBACK_ID)(campaign_form.on_submit)
    app.action(campaign_form_view.ADD_RULE)(campaign_form.on_rule_button)
    app.action(campaign_form_view.REMOVE_RULE)(campaign_form.on_rule_button)
    app.action(campaign_form_view.EDIT_ACTION)(campaign_form.on_edit_button)
    app.action(campaign_form_view.CLONE_ACTION)(campaign_form.on_clone_button)
    app.options(campaign_form_view.LISTS_ACTION)(campaign_form.on_options)
    app.options(campaign_form_view.IVR_ACTION)(campaign_form.on_options)
