from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入。注意区分大小写。"),
        "inactive": _("该账号已停用，请联系县委组织部管理员。"),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "placeholder": _("请输入用户名")}
        )
        self.fields["username"].error_messages["required"] = _("请输入用户名。")
        self.fields["password"].label = _("密码")
        self.fields["password"].widget.attrs.update(
            {"autocomplete": "current-password", "placeholder": _("请输入密码")}
        )
        self.fields["password"].error_messages["required"] = _("请输入密码。")
