from app.core.errors import BadRequest, DomainError


class OutOfStock(DomainError):
    code, status = "out_of_stock", 409
    zh = "{product} 库存不足（本店仅剩 {available} 件）。"
    en = "Not enough {product} in stock (only {available} left at this store)."


class StoreClosed(DomainError):
    code, status = "store_closed", 409
    zh = "所选取货时间不在营业时间内（{hours}）。"
    en = "The pickup time is outside opening hours ({hours})."


class ClosedBeforeReady(StoreClosed):
    """尽快 (or a delivery) while the store is closed, or closes before the order could be ready."""
    zh = "门店已打烊或即将打烊（营业时间 {hours}），现在下单来不及在打烊前备好。"
    en = "The store is closed or closes before an order placed now could be ready (opening hours {hours})."


class OutOfDeliveryRange(DomainError):
    code, status = "out_of_delivery_range", 409
    zh = "地址距门店 {distance_m} 米，超出配送范围（{radius_m} 米）。"
    en = "The address is {distance_m} m away, beyond the delivery range ({radius_m} m)."


class OrderStateError(DomainError):
    code, status = "order_state", 409
    zh = "订单当前状态为「{status_label}」，不能{action}。"
    en = "The order is {status}; cannot {action_en}."


class PickedUp(DomainError):
    code, status = "already_picked_up", 409
    zh = "订单已取货，不能退款；如需退款请先由门店撤销核销。"
    en = "The order was picked up; the store must undo the redemption before a refund."


class FieldErrors(BadRequest):
    """Every problem with the form's fields at once (a delivery checkout: address, phone, location), so the
    shopper fixes them in one go. `problems` are errors naming their `field`; the body lists them in
    `errors` ([{field, message}], as body validation does) and `field` names the first."""
    zh = "请完善以下 {_n} 项信息。"
    en = "Please fix the {_n} fields below."

    def __init__(self, problems: list[DomainError]):
        self.problems = problems
        super().__init__(_n=len(problems), field=problems[0].details.get("field", ""))

    def to_dict(self, lang: str = "zh") -> dict:
        body = super().to_dict(lang)
        body["errors"] = [{"field": p.details.get("field", ""), "message": p.message(lang)} for p in self.problems]
        return body


class PickupVoucherClosed(DomainError):
    """A pickup voucher is reissued only while its order waits for the hand-over, and only the current one."""
    code, status = "not_reissuable", 409
    zh = "订单 {number} 的状态为「{status_label}」，其取货券不能补发。"
    en = "Order {number} is {status}; its pickup voucher cannot be reissued."


class PickupVoucherReplaced(DomainError):
    code, status = "not_reissuable", 409
    zh = "订单 {number} 已有更新的取货券，这张不能补发。"
    en = "Order {number} has a newer pickup voucher; this one cannot be reissued."
