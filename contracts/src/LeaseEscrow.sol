// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20Min} from "./IERC20Min.sol";

/// @title LeaseEscrow: an Akash-style per-block lease escrow for one ERC-20.
/// @notice A tenant funds a lease; the provider withdraws what accrued (price per block times
///         blocks since the last settlement, capped at the balance). A take rate of each
///         settlement goes to the community pool. Closing settles, then refunds the rest.
contract LeaseEscrow {
    struct Lease {
        address tenant;
        address provider;
        uint256 pricePerBlock;
        uint256 balance;
        uint64 settledBlock;
        bool open;
    }

    IERC20Min public immutable token;
    address public immutable communityPool;
    uint16 public immutable takeBps;

    uint64 public nextLeaseId = 1;
    mapping(uint64 => Lease) public leases;

    event LeaseCreated(
        uint64 indexed leaseId,
        address indexed tenant,
        address indexed provider,
        uint256 pricePerBlock,
        uint256 deposit
    );
    event LeaseDeposit(uint64 indexed leaseId, address indexed tenant, uint256 amount);
    event PaymentWithdrawn(
        uint64 indexed leaseId, address indexed provider, uint256 providerAmount, uint256 takeAmount
    );
    event LeaseClosed(uint64 indexed leaseId, address indexed tenant, address indexed provider);
    event LeaseRefund(uint64 indexed leaseId, address indexed tenant, uint256 amount);

    error BadTakeRate();
    error ZeroAddress();
    error UnknownLease(uint64 leaseId);
    error LeaseNotOpen(uint64 leaseId);
    error NotParty(uint64 leaseId, address caller);
    error TransferFailed();

    constructor(IERC20Min token_, address communityPool_, uint16 takeBps_) {
        if (takeBps_ > 10_000) revert BadTakeRate();
        if (communityPool_ == address(0)) revert ZeroAddress();
        token = token_;
        communityPool = communityPool_;
        takeBps = takeBps_;
    }

    /// @dev Log order: the token's Transfer (tenant -> escrow), then LeaseCreated.
    function createLease(address provider, uint256 pricePerBlock, uint256 deposit_)
        external
        returns (uint64 leaseId)
    {
        if (provider == address(0)) revert ZeroAddress();
        leaseId = nextLeaseId++;
        leases[leaseId] = Lease({
            tenant: msg.sender,
            provider: provider,
            pricePerBlock: pricePerBlock,
            balance: deposit_,
            settledBlock: uint64(block.number),
            open: true
        });
        _pull(msg.sender, deposit_);
        emit LeaseCreated(leaseId, msg.sender, provider, pricePerBlock, deposit_);
    }

    /// @dev Log order: the token's Transfer (payer -> escrow), then LeaseDeposit.
    function deposit(uint64 leaseId, uint256 amount) external {
        Lease storage l = _openLease(leaseId);
        l.balance += amount;
        _pull(msg.sender, amount);
        emit LeaseDeposit(leaseId, l.tenant, amount);
    }

    function withdraw(uint64 leaseId) external {
        Lease storage l = _openLease(leaseId);
        if (msg.sender != l.provider) revert NotParty(leaseId, msg.sender);
        _settle(leaseId, l);
    }

    /// @dev Log order: settlement logs (see _settle), then the refund Transfer and LeaseRefund
    ///      when something is left, then LeaseClosed.
    function closeLease(uint64 leaseId) external {
        Lease storage l = _openLease(leaseId);
        if (msg.sender != l.tenant && msg.sender != l.provider) {
            revert NotParty(leaseId, msg.sender);
        }
        _settle(leaseId, l);
        l.open = false;
        uint256 rest = l.balance;
        l.balance = 0;
        if (rest > 0) {
            _push(l.tenant, rest);
            emit LeaseRefund(leaseId, l.tenant, rest);
        }
        emit LeaseClosed(leaseId, l.tenant, l.provider);
    }

    /// @notice What the provider could withdraw now.
    function accrued(uint64 leaseId) external view returns (uint256) {
        Lease storage l = leases[leaseId];
        if (!l.open) return 0;
        return _accrued(l);
    }

    function _accrued(Lease storage l) private view returns (uint256) {
        uint256 owed = l.pricePerBlock * (block.number - l.settledBlock);
        return owed < l.balance ? owed : l.balance;
    }

    /// @dev Zero-amount transfers are skipped so every Transfer log moves value; a settlement
    ///      with nothing accrued emits nothing. Log order: take Transfer (to the pool), provider
    ///      Transfer, PaymentWithdrawn.
    function _settle(uint64 leaseId, Lease storage l) private {
        uint256 amount = _accrued(l);
        l.settledBlock = uint64(block.number);
        if (amount == 0) return;
        l.balance -= amount;
        uint256 take = (amount * takeBps) / 10_000;
        uint256 toProvider = amount - take;
        if (take > 0) _push(communityPool, take);
        if (toProvider > 0) _push(l.provider, toProvider);
        emit PaymentWithdrawn(leaseId, l.provider, toProvider, take);
    }

    function _openLease(uint64 leaseId) private view returns (Lease storage l) {
        l = leases[leaseId];
        if (l.tenant == address(0)) revert UnknownLease(leaseId);
        if (!l.open) revert LeaseNotOpen(leaseId);
    }

    function _pull(address from, uint256 amount) private {
        if (amount == 0) return;
        if (!token.transferFrom(from, address(this), amount)) revert TransferFailed();
    }

    function _push(address to, uint256 amount) private {
        if (!token.transfer(to, amount)) revert TransferFailed();
    }
}
