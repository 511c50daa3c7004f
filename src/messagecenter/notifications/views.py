"""A notice or promotion on its own page, in the Message Center. Lists and the bulk bar
are the Message Center's own (conversations/views.py merges broadcasts in)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from messagecenter.hub.boxes import Box, Folder
from messagecenter.hub.selection import ListSelection
from messagecenter.notifications import actions, queries
from messagecenter.realtime.pages import live_page
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


@login_required
@require_safe
@live_page
def broadcast(request: AuthenticatedHttpRequest, broadcast_id: int) -> HttpResponse:
    """Reading it marks it read, as for a conversation. Not for this person, not due yet,
    expired, cancelled or missing: the same 404."""
    item = queries.access_broadcast(request.user, broadcast_id)
    if not item.is_read and request.method == "GET":
        actions.mark_broadcasts_read(request.user, [item.pk])
    if item.box == Box.INBOX:
        selection = ListSelection(folder=item.folder)
        label = dict(Folder.choices)[item.folder]
    else:
        selection = ListSelection(box=item.box)
        label = "Archive" if item.box == Box.ARCHIVE else "Trash"
    return render(
        request,
        "notifications/broadcast.html",
        {
            "item": item,
            "broadcast": item.broadcast,
            "list_url": selection.url(),
            "list_label": label,
        },
    )
