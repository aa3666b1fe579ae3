"""`Customers`: the Cognito user pool whose users are the API's customers (aws target only:
LocalStack community has no Cognito), and the app client they sign in with.

A customer is a user of the pool; the API takes the customer from the ID token's `sub` (shared.
entrypoints.http), which Cognito never reuses, so an order can never pass to a later user with
the same e-mail address. The shop creates its customers (`aws cognito-idp admin-create-user`): no
self sign-up on an API that places orders, until a sign-up page with its own abuse protection is
in front of it. Sign-in is by e-mail address and a strong password, with TOTP as an optional
second factor. The app client has no secret (a browser or a mobile app cannot keep one) and
allows SRP sign-in, which never sends the password, plus the admin password flow, which only a
holder of AWS credentials with `cognito-idp:AdminInitiateAuth` on this pool can use (`make
test-aws` signs its test customers in that way).

Like the tables, the pool is retained when the stack is removed on AWS, with deletion protection:
its users are the customers the orders name.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from shared.infra.target import Target

MIN_PASSWORD_LENGTH = 12


class Customers(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        target = Target.of(self)
        stack_name = Stack.of(self).stack_name
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{stack_name}-customers",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(email=cognito.StandardAttribute(required=True)),
            password_policy=cognito.PasswordPolicy(
                min_length=MIN_PASSWORD_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=target.table_removal_policy,
            deletion_protection=target.table_deletion_protection,
        )
        self.client = self.user_pool.add_client(
            "Client",
            user_pool_client_name=f"{stack_name}-storefront",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            prevent_user_existence_errors=True,
            # Cognito's defaults, left out of the template: ID and access tokens last an hour,
            # refresh tokens 30 days, and a refresh token can be revoked.
            enable_token_revocation=True,
        )
