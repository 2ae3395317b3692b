"""The grids REST API under /api/v1/grids/ (namespace v1:grids): each area keeps its own module."""

from grids.api import assessment, cases, config, filing, mediation, projects, worklog

urlpatterns = [
    *cases.urlpatterns,
    *filing.urlpatterns,
    *config.urlpatterns,
    *worklog.urlpatterns,
    *assessment.urlpatterns,
    *mediation.urlpatterns,
    *projects.urlpatterns,
]
