"""The grids module's pages: each area keeps its own module; this one mounts them under /grids/."""

from grids.urls import assessment, cases, config, filing, home, mediation, projects, public, queue, worklog

app_name = "grids"

urlpatterns = [
    *home.urlpatterns,
    *filing.urlpatterns,
    *cases.urlpatterns,
    *queue.urlpatterns,
    *config.urlpatterns,
    *worklog.urlpatterns,
    *assessment.urlpatterns,
    *mediation.urlpatterns,
    *projects.urlpatterns,
    *public.urlpatterns,
]
