from celery import shared_task


@shared_task(name="common.ping")
def ping(payload: str) -> dict[str, str]:
    """Echo a payload back: the round trip proves broker, worker and result backend are wired."""
    return {"pong": payload}
