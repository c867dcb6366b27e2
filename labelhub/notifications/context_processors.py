"""Template context for the console header: the unread notifications badge."""

from labelhub.notifications.selectors import unread_count


def notifications(request):
    """Expose the signed-in user's unread count (one COUNT query; none when anonymous)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
